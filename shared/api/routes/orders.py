"""Orders: one order (pending until its payment is processed; ``?wait=`` long-polls for
the final answer), the caller's orders with their events, and a confirmed order's tickets
as a PDF and as a calendar entry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from shared.api.deps import RuntimeDep, UserDep
from shared.api.schemas import OrderOut, OrdersOut
from shared.models import Principal
from shared.runtime import Runtime
from shared.services.order_waits import MAX_WAIT_SECONDS

router = APIRouter(prefix="/api", tags=["orders"])


@router.get("/orders/{order_id}", response_model=OrderOut)
async def get_order(order_id: str, rt: RuntimeDep, user: UserDep,
                    wait: Annotated[float, Query(
                        ge=0, le=MAX_WAIT_SECONDS,
                        description="seconds to wait for a pending order to become final "
                                    "(a long poll: the answer comes as soon as it is)")] = 0,
                    ) -> OrderOut:
    return await order_out(rt, user, order_id, wait)


async def order_out(rt: Runtime, user: Principal, order_id: str, wait: float) -> OrderOut:
    """One order as its buyer sees it (also answered by the fast path, ``api/fast_path``)."""
    if wait > 0:
        page = await rt.order_waits.until_final(
            order_id, lambda noticed: rt.orders.page(user, order_id, noticed=noticed), wait)
    else:
        page = await rt.orders.page(user, order_id)
    events = await rt.documents.events_of([page.order])
    return OrderOut.of(page.order, rt.door.code_of, page.checked_in,
                       events.get(page.order.event_id))


@router.get("/me/orders", response_model=OrdersOut)
async def my_orders(rt: RuntimeDep, user: UserDep) -> OrdersOut:
    """Newest first, each with its event (name, start, venue, image)."""
    mine = await rt.console.with_refunds(await rt.orders.mine(user))
    admitted = await rt.door.checked_in(*mine)
    events = await rt.documents.events_of(mine)
    return OrdersOut(items=[OrderOut.of(o, rt.door.code_of, admitted, events.get(o.event_id))
                            for o in mine])


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={
        "content-disposition": f'attachment; filename="{filename}"',
        "cache-control": "private, no-store"})


@router.get("/orders/{order_id}/tickets.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
async def tickets_pdf(order_id: str, rt: RuntimeDep, user: UserDep) -> Response:
    """One page per ticket with its QR code (409 until the order is confirmed)."""
    return _download(await rt.documents.pdf(user, order_id), "application/pdf",
                     "tickets.pdf")


@router.get("/orders/{order_id}/calendar.ics", response_class=Response,
            responses={200: {"content": {"text/calendar": {}}}})
async def calendar(order_id: str, request: Request, rt: RuntimeDep,
                   user: UserDep) -> Response:
    """The event as an iCalendar entry, linking back to the order page."""
    url = str(request.base_url).rstrip("/") + f"/orders/{order_id}"
    return _download((await rt.documents.calendar(user, order_id, url)).encode(),
                     "text/calendar; charset=utf-8", "event.ics")
