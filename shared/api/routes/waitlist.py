"""The waiting list over HTTP (issue 16): a buyer joins a sold-out ticket type's line, reads
their place and any offer (the SPA polls every few seconds), and leaves or declines."""

from __future__ import annotations

from fastapi import APIRouter, Response

from shared.api.deps import RuntimeDep, UserDep
from shared.api.schemas import WaitlistEntryOut, WaitlistIn, WaitlistOut

router = APIRouter(prefix="/api/events/{event_id}/waitlist", tags=["waitlist"])


@router.post("", status_code=201, response_model=WaitlistEntryOut,
             responses={200: {"model": WaitlistEntryOut,
                              "description": "already on the list: the existing entry"}})
async def join(event_id: str, body: WaitlistIn, rt: RuntimeDep, user: UserDep,
               response: Response) -> WaitlistEntryOut:
    """Join the line for a sold-out ticket type (409 ``tickets-available`` while tickets
    can be held instead)."""
    entry, new = await rt.waitlist.join(user, event_id, body.ticket_type_id, body.quantity)
    response.status_code = 201 if new else 200
    response.headers["Cache-Control"] = "no-store"
    return WaitlistEntryOut.of(entry)


@router.get("", response_model=WaitlistOut)
async def mine(event_id: str, rt: RuntimeDep, user: UserDep,
               response: Response) -> WaitlistOut:
    """The caller's entries of the event: place while waiting, the offer once made, and
    how it ended (purchased, expired, declined, left)."""
    view = await rt.waitlist.view(user, event_id)
    response.headers["Cache-Control"] = "no-store"
    return WaitlistOut(event_id=event_id, entries=[WaitlistEntryOut.of(e) for e in view.entries],
                       waiting=view.waiting)


@router.delete("/{entry_id}", response_model=WaitlistEntryOut)
async def leave(event_id: str, entry_id: str, rt: RuntimeDep, user: UserDep) -> WaitlistEntryOut:
    """Leave the line, or decline an offer (its tickets go to the next in line)."""
    return WaitlistEntryOut.of(await rt.waitlist.leave(user, event_id, entry_id))
