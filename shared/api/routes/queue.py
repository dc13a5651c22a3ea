"""The waiting room over HTTP: visitors join and read their place (the SPA polls it every
few seconds); organisers configure the queue, pause and resume admission, and read stats."""

from __future__ import annotations

from fastapi import APIRouter, Response

from shared.api.deps import AdminDep, RuntimeDep, UserDep
from shared.api.schemas import QueueIn, QueuePlaceOut, QueueStatsOut
from shared.models import iso
from shared.services.waiting_room import QueueStats, QueueView

router = APIRouter(tags=["queue"])


def _place(v: QueueView) -> QueuePlaceOut:
    return QueuePlaceOut(
        event_id=v.event_id, state=v.state,
        opens_at=iso(v.opens_at) if v.opens_at is not None else None,
        place=v.place, ahead=v.ahead, total=v.total, admitted=v.admitted,
        admit_per_minute=v.admit_per_minute, paused=v.paused,
        expected_wait_seconds=v.expected_wait_seconds, token=v.token,
        token_expires_at=iso(v.token_expires_at) if v.token_expires_at is not None else None)


def _stats(s: QueueStats) -> QueueStatsOut:
    return QueueStatsOut(
        event_id=s.event_id, enabled=s.enabled, opens_at=iso(s.opens_at),
        admit_per_minute=s.admit_per_minute, opened=s.opened, paused=s.paused,
        admitted=s.admitted, waiting=s.waiting, expected_wait_seconds=s.expected_wait_seconds)


@router.post("/api/events/{event_id}/queue", response_model=QueuePlaceOut)
async def join_queue(event_id: str, rt: RuntimeDep, user: UserDep,
                     response: Response) -> QueuePlaceOut:
    """Join the event's waiting room (again: the same place). State ``open``: no queue."""
    response.headers["Cache-Control"] = "no-store"
    return _place(await rt.waiting_room.join(user, event_id))


@router.get("/api/events/{event_id}/queue", response_model=QueuePlaceOut)
async def my_place(event_id: str, rt: RuntimeDep, user: UserDep,
                   response: Response) -> QueuePlaceOut:
    """The caller's place, expected wait, and (once admitted) the admission token."""
    response.headers["Cache-Control"] = "no-store"
    return _place(await rt.waiting_room.status(user, event_id))


@router.put("/api/admin/events/{event_id}/queue", response_model=QueueStatsOut)
async def configure_queue(event_id: str, body: QueueIn, rt: RuntimeDep,
                          admin: AdminDep) -> QueueStatsOut:
    """Turn the waiting room on or off, set its opening time and admission rate (the rate
    may change at any time; the opening time only until the queue has opened)."""
    opens_at = int(body.opens_at.timestamp() * 1000) if body.opens_at else None
    return _stats(await rt.waiting_room.configure(
        event_id, admin, enabled=body.enabled, opens_at=opens_at,
        admit_per_minute=body.admit_per_minute))


@router.get("/api/admin/events/{event_id}/queue", response_model=QueueStatsOut)
async def queue_stats(event_id: str, rt: RuntimeDep, admin: AdminDep) -> QueueStatsOut:
    return _stats(await rt.waiting_room.stats(event_id))


@router.post("/api/admin/events/{event_id}/queue/pause", response_model=QueueStatsOut)
async def pause_queue(event_id: str, rt: RuntimeDep, admin: AdminDep) -> QueueStatsOut:
    """Stop admitting at once (places are kept; the paused time does not count)."""
    return _stats(await rt.waiting_room.set_paused(event_id, admin, True))


@router.post("/api/admin/events/{event_id}/queue/resume", response_model=QueueStatsOut)
async def resume_queue(event_id: str, rt: RuntimeDep, admin: AdminDep) -> QueueStatsOut:
    return _stats(await rt.waiting_room.set_paused(event_id, admin, False))
