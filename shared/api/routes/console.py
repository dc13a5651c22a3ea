"""The organiser console's API (admin role): my events with what sold, an event's live
dashboard, its orders (search, keyset pages, streamed CSV) and audit trail, one order, and
refunds of a whole order or some of its tickets."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from shared.api.console_schemas import (
    CancellationOut,
    ConsoleEventOut,
    ConsoleEventsOut,
    DashboardOut,
    OrderDetailOut,
    OrderRowOut,
    OrderRowsOut,
    RefundIn,
)
from shared.api.deps import AdminDep, RuntimeDep
from shared.api.schemas import AuditEntryOut, AuditOut, EventOut
from shared.errors import InvalidInput
from shared.models import iso
from shared.runtime import Runtime
from shared.text_rules import text_problem

router = APIRouter(prefix="/api/admin", tags=["console"])
log = logging.getLogger(__name__)
# Background jobs started by requests; held here so they are not garbage-collected mid-run.
_jobs: set[asyncio.Task[object]] = set()

Cursor = Annotated[str | None, Query(max_length=2000)]
Search = Annotated[str, Query(max_length=254, description="buyer email (prefix) or order id")]
NO_STORE = {"Cache-Control": "no-store"}


def _search(q: str) -> str:
    if problem := text_problem(q):
        raise InvalidInput(problem, field="q")
    return q


@router.get("/events", response_model=ConsoleEventsOut)
async def my_events(rt: RuntimeDep, _admin: AdminDep, cursor: Cursor = None,
                    limit: Annotated[int, Query(ge=1, le=100)] = 50) -> ConsoleEventsOut:
    """Every event, drafts and cancelled ones too, with capacity, sold and net revenue."""
    rows, next_cursor = await rt.console.my_events(cursor, limit)
    return ConsoleEventsOut(items=[ConsoleEventOut.of(EventOut.of(e), t) for e, t in rows],
                            next_cursor=next_cursor)


@router.get("/events/{event_id}/dashboard", response_model=DashboardOut)
async def dashboard(event_id: str, rt: RuntimeDep, _admin: AdminDep) -> DashboardOut:
    """Per ticket type: capacity, sold (ledger), held and available right now (Redis)."""
    return DashboardOut.of(await rt.console.dashboard(event_id))


@router.get("/events/{event_id}/orders", response_model=OrderRowsOut)
async def event_orders(event_id: str, rt: RuntimeDep, _admin: AdminDep, q: Search = "",
                       cursor: Cursor = None,
                       limit: Annotated[int, Query(ge=1, le=200)] = 50) -> OrderRowsOut:
    rows, next_cursor = await rt.console.orders(event_id, _search(q), cursor, limit)
    return OrderRowsOut(items=[OrderRowOut.of(r) for r in rows], next_cursor=next_cursor)


@router.get("/events/{event_id}/orders.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}})
async def export_orders(event_id: str, rt: RuntimeDep, admin: AdminDep,
                        q: Search = "") -> StreamingResponse:
    """Every order of the event as CSV, streamed a page of the ledger at a time."""
    lines = await rt.console.csv_lines(event_id, _search(q), admin)
    return StreamingResponse(lines, media_type="text/csv; charset=utf-8", headers={
        **NO_STORE, "Content-Disposition": f'attachment; filename="orders-{event_id}.csv"'})


@router.get("/events/{event_id}/audit", response_model=AuditOut)
async def event_audit(event_id: str, rt: RuntimeDep, _admin: AdminDep,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100) -> AuditOut:
    """What organisers did to the event and its orders, newest first."""
    entries = await rt.console.audit(event_id, limit)
    # actor_id carries the organiser's email here: the console shows who, not an id
    return AuditOut(items=[AuditEntryOut(id=e["id"], at=iso(e["at"]), actor_id=e["actor"],
                                         action=e["action"], target=e["target"],
                                         detail=e["detail"]) for e in entries])


@router.get("/orders/{order_id}", response_model=OrderDetailOut)
async def order(order_id: str, rt: RuntimeDep, _admin: AdminDep) -> OrderDetailOut:
    return await _detail(rt, order_id)


async def _detail(rt: Runtime, order_id: str) -> OrderDetailOut:
    d = await rt.console.order(order_id)
    return OrderDetailOut.of(d, rt.door.code_of, await rt.door.checked_in(d.order))


@router.post("/orders/{order_id}/refunds", response_model=OrderDetailOut)
async def refund(order_id: str, body: RefundIn, rt: RuntimeDep,
                 admin: AdminDep) -> OrderDetailOut:
    """Cancel and refund the order, or the tickets named: the processor returns the money,
    the tickets stop being valid and go back on sale. Repeating it changes nothing."""
    await rt.refunds.refund(order_id, body.ticket_ids, admin)
    return await _detail(rt, order_id)


@router.post("/events/{event_id}/cancellation", status_code=202, response_model=CancellationOut)
async def cancel_and_refund(event_id: str, rt: RuntimeDep, admin: AdminDep,
                            response: Response) -> CancellationOut:
    """Cancel the event (sales stop now) and refund every order in the background; poll the
    Location for progress. Asking again continues the same job."""
    job = await rt.cancellations.start(event_id, admin)

    async def run() -> object:
        try:
            return await rt.cancellations.run(event_id)
        except Exception:  # the reconciler resumes the job on its next pass
            log.warning("cancellation of %s interrupted", event_id, exc_info=True)
            return None

    task: asyncio.Task[object] = asyncio.create_task(run())
    _jobs.add(task)
    task.add_done_callback(_jobs.discard)
    response.headers["Location"] = f"/api/admin/events/{event_id}/cancellation"
    return CancellationOut.of(job)


@router.get("/events/{event_id}/cancellation", response_model=CancellationOut)
async def cancellation(event_id: str, rt: RuntimeDep, _admin: AdminDep) -> CancellationOut:
    return CancellationOut.of(await rt.cancellations.progress(event_id))
