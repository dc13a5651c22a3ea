"""Door check-in API: organisers grant and revoke door staff per event; staff (and
organisers) scan ticket codes and read the event's check-in count.

A scan answers 200 whatever the ticket's fate (admitted, already checked in, refunded, wrong
event, forged): the scanner shows the answer; only a malformed request is a 4xx."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from shared.api.deps import AdminDep, RuntimeDep, UserDep
from shared.api.schemas import EMAIL_PATTERN, Strict
from shared.door import Scan, StaffMember
from shared.models import iso
from shared.ticket_codes import MAX_LENGTH

router = APIRouter(prefix="/api", tags=["door"])


class StaffIn(Strict):
    email: Annotated[str, Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN)]


class StaffOut(BaseModel):
    user_id: str
    email: str
    display_name: str
    granted_at: str

    @classmethod
    def of(cls, m: StaffMember) -> StaffOut:
        return cls(user_id=m.user_id, email=m.email, display_name=m.display_name,
                   granted_at=iso(m.granted_at))


class StaffListOut(BaseModel):
    items: list[StaffOut]


class ScanIn(Strict):
    code: Annotated[str, Field(min_length=1, max_length=MAX_LENGTH,
                               description="the code read from the ticket's QR code")]


class ScanOut(BaseModel):
    result: Literal["admitted", "already_checked_in", "refunded", "wrong_event", "forged",
                    "unknown_ticket"]
    admitted: bool
    ticket_id: str | None
    event_id: str | None
    ticket_type_id: str | None
    checked_in_at: str | None
    checked_in_by: str | None

    @classmethod
    def of(cls, s: Scan) -> ScanOut:
        return cls(result=s.result.value, admitted=s.admitted, ticket_id=s.ticket_id,
                   event_id=s.event_id, ticket_type_id=s.ticket_type_id,
                   checked_in_at=iso(s.checked_in_at) if s.checked_in_at else None,
                   checked_in_by=s.checked_in_by)


class DoorCountsOut(BaseModel):
    checked_in: int
    tickets: int


class DoorEventOut(BaseModel):
    id: str
    name: str
    starts_at: str
    venue: str
    timezone: str


class DoorEventsOut(BaseModel):
    items: list[DoorEventOut]


@router.get("/admin/events/{event_id}/staff", response_model=StaffListOut)
async def list_staff(event_id: str, rt: RuntimeDep, _admin: AdminDep) -> StaffListOut:
    return StaffListOut(items=[StaffOut.of(m) for m in await rt.door.staff(event_id)])


@router.post("/admin/events/{event_id}/staff", status_code=201, response_model=StaffOut)
async def grant_staff(event_id: str, body: StaffIn, rt: RuntimeDep,
                      admin: AdminDep) -> StaffOut:
    """Make an existing account door staff at this event (granting twice changes nothing)."""
    return StaffOut.of(await rt.door.grant(admin, event_id, body.email))


@router.delete("/admin/events/{event_id}/staff/{user_id}", status_code=204)
async def revoke_staff(event_id: str, user_id: str, rt: RuntimeDep,
                       admin: AdminDep) -> Response:
    await rt.door.revoke(admin, event_id, user_id)
    return Response(status_code=204)


@router.get("/staff/events", response_model=DoorEventsOut)
async def my_doors(rt: RuntimeDep, user: UserDep) -> DoorEventsOut:
    """The events whose door the caller works."""
    return DoorEventsOut(items=[
        DoorEventOut(id=e.id, name=e.name, starts_at=e.starts_at, venue=e.venue.name,
                     timezone=e.venue.timezone)
        for e in await rt.door.events_to_scan(user)])


@router.post("/staff/events/{event_id}/checkins", response_model=ScanOut)
async def scan(event_id: str, body: ScanIn, rt: RuntimeDep, user: UserDep) -> ScanOut:
    """Check a ticket in: exactly one of any number of scans of a ticket is admitted."""
    return ScanOut.of(await rt.door.scan(user, event_id, body.code))


@router.get("/staff/events/{event_id}/checkins", response_model=DoorCountsOut)
async def counts(event_id: str, rt: RuntimeDep, user: UserDep) -> DoorCountsOut:
    c = await rt.door.counts(user, event_id)
    return DoorCountsOut(checked_in=c.checked_in, tickets=c.tickets)
