"""Organiser API (admin role): create events (on sale or as drafts), edit them (names, dates,
venue, prices, per-user limit, capacities, new ticket types), publish and cancel them, and
read the audit log of admin actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from shared.api.deps import AdminDep, RuntimeDep
from shared.api.schemas import (
    AuditEntryOut,
    AuditOut,
    EventIn,
    EventOut,
    EventPatchIn,
    OfferIn,
    OfferOut,
    OffersOut,
    VenueIn,
    VenueOut,
)
from shared.errors import InvalidInput
from shared.models import Event, Offer, Venue, iso
from shared.services.catalog import EventDraft, EventEdit, TicketTypeDraft, TicketTypeEdit, utc_iso

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.post("/events", status_code=201, response_model=EventOut)
async def create_event(body: EventIn, rt: RuntimeDep, admin: AdminDep,
                       response: Response) -> EventOut:
    if (body.venue is None) == (body.venue_id is None):
        raise InvalidInput("give either venue (a new one) or venue_id (an existing one)",
                           field="venue")
    v = body.venue
    venue = v.venue() if v else Venue(id=body.venue_id or "", name="", city="")
    event = await rt.catalog.create_event(EventDraft(
        name=body.name, description=body.description, category=body.category,
        starts_at=body.starts_at, venue=venue,
        currency=body.currency, per_user_limit=body.per_user_limit, image_url=body.image_url,
        status=body.status,
        ticket_types=tuple(TicketTypeDraft(t.name, t.price, t.capacity)
                           for t in body.ticket_types),
    ), actor=admin)
    response.headers["Location"] = f"/api/events/{event.id}"
    return EventOut.of(event)


@router.patch("/events/{event_id}", response_model=EventOut)
async def update_event(event_id: str, body: EventPatchIn, rt: RuntimeDep,
                       admin: AdminDep) -> EventOut:
    v = body.venue
    event = await rt.catalog.update_event(event_id, EventEdit(
        name=body.name, description=body.description, category=body.category,
        starts_at=body.starts_at,
        venue=v.venue() if v else None,
        per_user_limit=body.per_user_limit, image_url=body.image_url,
        ticket_types=tuple(TicketTypeEdit(t.id or "", t.name, t.price, t.capacity)
                           for t in body.ticket_types),
    ), actor=admin)
    return EventOut.of(event)


@router.post("/events/{event_id}/publish", response_model=EventOut)
async def publish_event(event_id: str, rt: RuntimeDep, admin: AdminDep) -> EventOut:
    """Put the event on sale: listed, and holds accepted."""
    return EventOut.of(await rt.catalog.update_event(event_id, EventEdit(status="on_sale"),
                                                     actor=admin))


@router.post("/events/{event_id}/cancel", response_model=EventOut)
async def cancel_event(event_id: str, rt: RuntimeDep, admin: AdminDep) -> EventOut:
    """Stop the sale for good: unlisted, and new holds refused."""
    return EventOut.of(await rt.catalog.update_event(event_id, EventEdit(status="cancelled"),
                                                     actor=admin))


@router.get("/audit", response_model=AuditOut)
async def audit(rt: RuntimeDep, _admin: AdminDep,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> AuditOut:
    return AuditOut(items=[AuditEntryOut(**{**e, "at": iso(e["at"])})
                           for e in await rt.ledger.audit_entries(limit)])


async def _offers(rt: RuntimeDep, event: Event) -> OffersOut:
    uses = await rt.store.promo_uses(event.id, [o.code for o in event.offers])
    return OffersOut(items=[OfferOut(
        code=o.code, kind=o.kind, value=o.value,
        valid_from=iso(o.valid_from) if o.valid_from else None,
        valid_to=iso(o.valid_to) if o.valid_to else None, max_uses=o.max_uses,
        active=o.active, uses=uses.get(o.code, 0)) for o in event.offers])


def _ms(value: datetime | None) -> int:
    return int(datetime.fromisoformat(utc_iso(value).replace("Z", "+00:00")).timestamp()
               * 1000) if value else 0


@router.put("/events/{event_id}/offers/{code}", response_model=OffersOut)
async def put_offer(event_id: str, code: str, body: OfferIn, rt: RuntimeDep,
                    admin: AdminDep) -> OffersOut:
    """Create or replace a promo code (``active: false`` retires it)."""
    if body.code.upper() != code.upper():
        raise InvalidInput("the code in the path and the body differ", field="code")
    event = await rt.catalog.put_offer(event_id, Offer(
        code=body.code, kind=body.kind, value=body.value, valid_from=_ms(body.valid_from),
        valid_to=_ms(body.valid_to), max_uses=body.max_uses, active=body.active), admin)
    return await _offers(rt, event)


@router.get("/events/{event_id}/offers", response_model=OffersOut)
async def list_offers(event_id: str, rt: RuntimeDep, _admin: AdminDep) -> OffersOut:
    return await _offers(rt, await rt.catalog.get_event(event_id))


@router.post("/venues", status_code=201, response_model=VenueOut)
async def create_venue(body: VenueIn, rt: RuntimeDep, admin: AdminDep) -> VenueOut:
    return VenueOut.of(await rt.catalog.put_venue(
        body.venue(), admin))


@router.put("/venues/{venue_id}", response_model=VenueOut)
async def update_venue(venue_id: str, body: VenueIn, rt: RuntimeDep,
                       admin: AdminDep) -> VenueOut:
    """Replace a venue's details; every event held there shows them at once."""
    return VenueOut.of(await rt.catalog.put_venue(
        body.venue(venue_id), admin))
