"""Organiser API (admin role): create events with their ticket types and capacities, edit
them (names, dates, venue, prices, per-user limit), and read the audit log of admin actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from shared.api.deps import AdminDep, RuntimeDep
from shared.api.schemas import AuditEntryOut, AuditOut, EventIn, EventOut, EventPatchIn
from shared.models import Venue, iso
from shared.services.catalog import EventDraft, EventEdit, TicketTypeDraft, TicketTypeEdit

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.post("/events", status_code=201, response_model=EventOut)
async def create_event(body: EventIn, rt: RuntimeDep, admin: AdminDep,
                       response: Response) -> EventOut:
    event = await rt.catalog.create_event(EventDraft(
        name=body.name, description=body.description, category=body.category,
        starts_at=body.starts_at,
        venue=Venue(id="", name=body.venue.name, city=body.venue.city,
                    address=body.venue.address, country=body.venue.country),
        currency=body.currency, per_user_limit=body.per_user_limit, image_url=body.image_url,
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
        venue=Venue(id="", name=v.name, city=v.city, address=v.address, country=v.country)
        if v else None,
        per_user_limit=body.per_user_limit, image_url=body.image_url,
        ticket_types=tuple(TicketTypeEdit(t.id, t.name, t.price) for t in body.ticket_types),
    ), actor=admin)
    return EventOut.of(event)


@router.get("/audit", response_model=AuditOut)
async def audit(rt: RuntimeDep, _admin: AdminDep,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> AuditOut:
    return AuditOut(items=[AuditEntryOut(**{**e, "at": iso(e["at"])})
                           for e in await rt.ledger.audit_entries(limit)])
