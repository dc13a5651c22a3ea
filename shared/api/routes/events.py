"""Events: browse the catalog, read live availability, and take a hold."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from shared.api.deps import RuntimeDep, UserDep
from shared.api.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.api.schemas import (
    DATE_DOC,
    AvailabilityLine,
    AvailabilityOut,
    DateTime,
    EventOut,
    EventsOut,
    HoldIn,
    HoldOut,
    Line,
)
from shared.errors import StoreUnavailable
from shared.models import LineItem

router = APIRouter(prefix="/api/events", tags=["events"])


@router.get("", response_model=EventsOut)
async def list_events(
    rt: RuntimeDep, response: Response,
    q: Annotated[Line | None, Query(max_length=100)] = None,
    city: Annotated[Line | None, Query(max_length=100)] = None,
    category: Annotated[Line | None, Query(max_length=50)] = None,
    starts_from: Annotated[DateTime | None, Query(alias="from", description=DATE_DOC)] = None,
    starts_to: Annotated[DateTime | None, Query(alias="to", description=DATE_DOC)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> EventsOut:
    events, next_cursor = await rt.catalog.list_events(
        q=q, city=city, category=category, starts_from=starts_from, starts_to=starts_to,
        limit=limit,
        cursor=cursor)
    response.headers["Cache-Control"] = "public, max-age=30"
    return EventsOut(items=[EventOut.of(e) for e in events], next_cursor=next_cursor)


@router.get("/{event_id}", response_model=EventOut)
async def get_event(event_id: str, rt: RuntimeDep, response: Response) -> EventOut:
    event = await rt.catalog.get_event(event_id)
    response.headers["Cache-Control"] = "public, max-age=30"
    return EventOut.of(event)


@router.get("/{event_id}/availability", response_model=AvailabilityOut)
async def availability(event_id: str, rt: RuntimeDep, response: Response) -> AvailabilityOut:
    found = await rt.inventory.availability(event_id)
    try:  # tickets of a type with a waiting list are theirs: none for anyone else
        waiting = await rt.waitlist.waiting(event_id, sorted(found))
    except StoreUnavailable:  # degraded mode sells from SQL, without the waiting list
        waiting = {}
    response.headers["Cache-Control"] = "public, max-age=1"
    return AvailabilityOut(
        event_id=event_id,
        ticket_types=[AvailabilityLine(id=k, available=0 if waiting.get(k) else v,
                                       waiting=waiting.get(k, 0))
                      for k, v in sorted(found.items())],
    )


@router.post("/{event_id}/holds", status_code=201, response_model=HoldOut)
async def create_hold(event_id: str, body: HoldIn, request: Request, rt: RuntimeDep,
                      user: UserDep,
                      idempotency_key: Annotated[str | None, IDEMPOTENCY_KEY] = None,
                      queue_token: Annotated[str | None, Header(
                          alias="X-Queue-Token", max_length=200,
                          description="admission token of the event's waiting room")] = None,
                      ) -> Response:
    # A queued event's hold needs the waiting room's signed token (verified in process).
    await rt.waiting_room.require_admission(user, event_id, queue_token)

    async def compute() -> JSONResponse:
        hold = await rt.holds.create(
            user, event_id, [LineItem(i.ticket_type_id, i.quantity) for i in body.items],
            body.promo_code or "")
        return JSONResponse(HoldOut.of(hold).model_dump(), status_code=201,
                            headers={"Location": f"/api/holds/{hold.id}"})

    return await idempotent(request, rt.idempotency, user, compute)
