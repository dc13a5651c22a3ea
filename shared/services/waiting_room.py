"""The virtual waiting room of an on-sale (issue 14).

Visitors who arrive before ``opens_at`` wait in a pre-queue and get random places at
opening; later visitors queue first come, first served. An admitted pointer advances with
the clock at the organiser's rate (computed inside the Lua scripts, so no timer runs and
every instance agrees). A visitor whose place the pointer has passed gets an admission token;
while the queue is on, a hold needs one (``require_admission``).

The settings live in the event's document (durable, readable while Redis is down); the
places and the pointer live in Redis. If Redis lost the queue's state, the next call puts the
settings back (places already handed out are then lost: AOF is what keeps them).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace

from shared.errors import InvalidInput, NotFound, QueueRequired
from shared.models import Event, Principal, QueueSettings, iso
from shared.ports import AuditLog, ScriptResult, WaitingRoomStore
from shared.services.admission_tokens import AdmissionTokens
from shared.services.catalog import CatalogService
from shared.settings import Settings

TOKEN_HEADER = "X-Queue-Token"


@dataclass(frozen=True)
class QueueView:
    """What a visitor sees: ``state`` is ``open`` (no queue for this event), ``none`` (not
    in it), ``pre_queue``, ``queued``, ``admitted`` (with a token) or ``expired``."""

    event_id: str
    state: str
    opens_at: int | None = None
    place: int | None = None
    ahead: int | None = None
    total: int = 0
    admitted: int = 0
    admit_per_minute: int = 0
    paused: bool = False
    expected_wait_seconds: int | None = None
    token: str | None = None
    token_expires_at: int | None = None


@dataclass(frozen=True)
class QueueStats:
    """The organiser's view: ``waiting`` places not yet admitted (or the pre-queue size)."""

    event_id: str
    enabled: bool
    opens_at: int
    admit_per_minute: int
    opened: bool
    paused: bool
    admitted: int
    waiting: int
    expected_wait_seconds: int | None


def wait_seconds(people: int, per_minute: int, paused: bool) -> int | None:
    """Time for ``people`` more admissions at the rate; unknown (None) while paused."""
    if paused or per_minute <= 0:
        return None
    return -(-max(0, people) * 60 // per_minute)


class WaitingRoomService:
    def __init__(self, store: WaitingRoomStore, catalog: CatalogService, audit: AuditLog,
                 settings: Settings, clock: Callable[[], int]) -> None:
        self._store = store
        self._catalog = catalog
        self._audit = audit
        self._settings = settings
        self._clock = clock
        self._tokens = AdmissionTokens(settings.queue_token_secret)

    @property
    def _window_ms(self) -> int:
        return self._settings.queue_admission_seconds * 1000

    # The hook of the hold path.

    async def require_admission(self, user: Principal, event_id: str,
                                token: str | None) -> None:
        """Raise QueueRequired unless the event has no queue on or ``token`` admits this
        user for this event now. Reads the event through the catalog cache (in process for
        a couple of seconds; the store when Redis is down) and verifies the signature in
        process: no Redis call."""
        try:
            event = await self._catalog.get_event(event_id)
        except NotFound:
            return  # the hold itself answers 404
        queue = event.queue
        if queue is None or not queue.enabled:
            return
        if token and self._tokens.valid(token, user.user_id, event_id, self._clock()):
            return
        raise QueueRequired(
            f"tickets for this event are sold through a waiting room: join it with POST "
            f"/api/events/{event_id}/queue and send the admission token in {TOKEN_HEADER}"
            + (" (this token is expired, or for another account or event)" if token else ""))

    # Visitors.

    async def join(self, user: Principal, event_id: str) -> QueueView:
        event = await self._catalog.get_event(event_id)
        if event.queue is None or not event.queue.enabled:
            return QueueView(event_id=event_id, state="open")
        score = secrets.randbelow(2**52) / 2**52
        result = await self._store.join(event_id, user.user_id, self._clock(), score,
                                         self._window_ms)
        if result.error == "not_configured":
            await self._restore(event, event.queue)
            result = await self._store.join(event_id, user.user_id, self._clock(), score,
                                             self._window_ms)
        return self._view(event_id, user, result)

    async def status(self, user: Principal, event_id: str) -> QueueView:
        event = await self._catalog.get_event(event_id)
        if event.queue is None or not event.queue.enabled:
            return QueueView(event_id=event_id, state="open")
        result = await self._store.status(event_id, user.user_id, self._clock(),
                                          self._window_ms)
        if result.error == "not_configured":
            await self._restore(event, event.queue)
            result = await self._store.status(event_id, user.user_id, self._clock(),
                                              self._window_ms)
        return self._view(event_id, user, result)

    def _view(self, event_id: str, user: Principal, r: ScriptResult) -> QueueView:
        if not r.ok:
            raise RuntimeError(f"queue script answered {r.error!r}")
        state = str(r.get("state"))
        rate, paused = int(r.get("rate", 0)), bool(r.get("paused", False))
        admitted, total = int(r.get("admitted", 0)), int(r.get("total", 0))
        place = r.get("place")
        view = QueueView(event_id=event_id, state=state, opens_at=int(r.get("opens_at")),
                         total=total, admitted=admitted, admit_per_minute=rate, paused=paused)
        if state == "pre_queue":
            # Before opening nobody has a place yet; the wait is counted from opening.
            return view
        if place is None:
            return view
        place = int(place)
        ahead = max(0, place - admitted - 1)
        if state == "admitted":
            expires_at = int(r.get("expires_at"))
            return replace(view, place=place, ahead=0, expected_wait_seconds=0,
                           token=self._tokens.issue(user.user_id, event_id, expires_at),
                           token_expires_at=expires_at)
        return replace(view, place=place, ahead=ahead,
                       expected_wait_seconds=wait_seconds(ahead + 1, rate, paused))

    # The organiser.

    async def configure(self, event_id: str, actor: Principal, *, enabled: bool,
                        opens_at: int | None, admit_per_minute: int | None) -> QueueStats:
        event = await self._catalog.get_event(event_id)
        current = event.queue
        queue = QueueSettings(
            enabled=enabled,
            opens_at=opens_at if opens_at is not None else (
                current.opens_at if current else self._clock()),
            admit_per_minute=admit_per_minute or (
                current.admit_per_minute if current else
                self._settings.queue_default_admit_per_minute))
        # Redis first: once the document says "enabled", the state is there to join.
        await self._restore(event, queue)
        await self._catalog.put_queue(event_id, queue)
        await self._audit.record_audit(actor.user_id, "queue.configure", event_id, {
            "enabled": queue.enabled, "opens_at": iso(queue.opens_at),
            "admit_per_minute": queue.admit_per_minute}, self._clock())
        return await self.stats(event_id)

    async def _restore(self, event: Event, queue: QueueSettings) -> None:
        result = await self._store.configure(event.id, self._clock(), queue.opens_at,
                                             queue.admit_per_minute)
        if result.error == "already_open":
            raise InvalidInput(
                f"the queue opened at {iso(int(result.get('opens_at')))}; places were "
                "handed out against that time, so it can no longer change", field="opens_at")
        if not result.ok:
            raise RuntimeError(f"queue script answered {result.error!r}")

    async def set_paused(self, event_id: str, actor: Principal, paused: bool) -> QueueStats:
        event = await self._catalog.get_event(event_id)
        if event.queue is None:
            raise NotFound("this event has no waiting room; configure one first")
        result = await self._store.set_paused(event_id, self._clock(), paused)
        if result.error == "not_configured":
            await self._restore(event, event.queue)
            result = await self._store.set_paused(event_id, self._clock(), paused)
        await self._audit.record_audit(actor.user_id, "queue.pause" if paused else
                                       "queue.resume", event_id, {}, self._clock())
        return await self.stats(event_id)

    async def stats(self, event_id: str) -> QueueStats:
        event = await self._catalog.get_event(event_id)
        queue = event.queue
        if queue is None:
            raise NotFound("this event has no waiting room; configure one first")
        result = await self._store.stats(event_id, self._clock())
        if result.error == "not_configured":
            await self._restore(event, queue)
            result = await self._store.stats(event_id, self._clock())
        rate, paused = int(result.get("rate")), bool(result.get("paused"))
        admitted, total = int(result.get("admitted")), int(result.get("total"))
        waiting = total - admitted
        return QueueStats(event_id=event_id, enabled=queue.enabled,
                          opens_at=int(result.get("opens_at")), admit_per_minute=rate,
                          opened=bool(result.get("opened")), paused=paused,
                          admitted=admitted, waiting=waiting,
                          expected_wait_seconds=wait_seconds(waiting, rate, paused))
