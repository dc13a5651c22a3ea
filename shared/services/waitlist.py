"""The waiting list (issue 16): after a sell-out, buyers line up per ticket type; tickets
that come back (a hold expires or is released, a refund, a capacity raise) are offered to
the first in line as a hold of their own, for ``WAITLIST_OFFER_SECONDS``, with an email.

Every step is one Lua script on the event's keys (``lua/waitlist_*.lua``), so taking a turn
and moving the tickets are one atomic step; ``hold.lua`` treats a type with buyers waiting
as sold out, so returned tickets wait for the offer step instead of the fastest refresher.
The offer step (``offer``) runs after every operation that gives tickets back
(``tickets_returned``), on every reconciler pass (which serves expired holds and expired
offers), and when a buyer reads their entries. Its email notes are durable: an offer stays
noted in Redis until its email is in the SQL outbox, and every offer step re-enqueues the
notes left behind (idempotently), so a crash between the two never loses an email.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from shared import ids
from shared.errors import (
    Conflict,
    DependencyUnavailable,
    InvalidInput,
    NotFound,
    NotOnSale,
    PaymentInProgress,
    PerUserLimit,
    TicketsAvailable,
)
from shared.models import Principal, WaitlistEntry, WaitlistOfferNotice
from shared.ports import ScriptResult, WaitlistNotices, WaitlistStore
from shared.services.inventory import InventoryService
from shared.settings import Settings

log = logging.getLogger(__name__)

BATCH = 100  # offers (and notes) per script call: bounded work inside Redis
MAX_ROUNDS = 20


@dataclass(frozen=True)
class WaitlistView:
    """A buyer's entries of an event and how many wait per ticket type."""

    entries: list[WaitlistEntry]
    waiting: dict[str, int]


class WaitlistService:
    def __init__(self, store: WaitlistStore, notices: WaitlistNotices,
                 inventory: InventoryService, settings: Settings, clock: Callable[[], int],
                 *, degraded: Callable[[], bool] = lambda: False) -> None:
        self._store = store
        self._notices = notices
        self._inventory = inventory
        self._offer_ms = settings.waitlist_offer_seconds * 1000
        self._clock = clock
        self._degraded = degraded

    def _needs_redis(self) -> None:
        if self._degraded():
            raise DependencyUnavailable("the waiting list is unavailable while the inventory "
                                        "store (redis) is down; retry shortly")

    async def join(self, user: Principal, event_id: str, ticket_type_id: str,
                   quantity: int) -> tuple[WaitlistEntry, bool]:
        """Join (or find the buyer's active entry: ``True`` when it is new)."""
        if not ids.is_event_id(event_id):
            raise NotFound(f"event {event_id} not found")
        if quantity < 1:
            raise InvalidInput("quantity must be a positive integer", field="quantity")
        self._needs_redis()
        entry_id = ids.new_child_id(event_id)
        result = await self._store.join(event_id, entry_id, user.user_id, ticket_type_id,
                                        quantity, self._clock())
        if result.error == "not_loaded":
            if not await self._inventory.load(event_id):
                raise NotFound(f"event {event_id} not found")
            result = await self._store.join(event_id, entry_id, user.user_id, ticket_type_id,
                                            quantity, self._clock())
        if not result.ok:
            raise _join_error(result)
        entry = WaitlistEntry.from_view(event_id, result.get("entry"))
        if not result.get("already"):
            # Tickets may be waiting in inv for this very type (its head did not fit, or
            # an offer step failed): serve the line now rather than on the next pass.
            await self.tickets_returned(event_id)
        return entry, not result.get("already")

    async def view(self, user: Principal, event_id: str) -> WaitlistView:
        """The buyer's entries (after an offer step: reading heals a late reconciler)."""
        if not ids.is_event_id(event_id):
            raise NotFound(f"event {event_id} not found")
        self._needs_redis()
        await self.tickets_returned(event_id)
        result = await self._store.status(event_id, user.user_id)
        return WaitlistView(
            entries=[WaitlistEntry.from_view(event_id, v) for v in result.get("entries")],
            waiting={str(k): int(v) for k, v in dict(result.get("waiting") or {}).items()})

    async def leave(self, user: Principal, event_id: str, entry_id: str) -> WaitlistEntry:
        """Leave the line, or decline an offer (its tickets go to the next in line)."""
        if ids.event_of(entry_id) != event_id:
            raise NotFound("waiting-list entry not found")
        self._needs_redis()
        result = await self._store.leave(event_id, entry_id, user.user_id, self._clock())
        if result.error == "in_checkout":
            raise PaymentInProgress("the offered tickets are being paid for")
        if result.error == "purchased":
            raise Conflict("the offered tickets have been bought")
        if not result.ok:
            raise NotFound("waiting-list entry not found")
        await self.tickets_returned(event_id)  # the head may have changed
        return WaitlistEntry.from_view(event_id, result.get("entry"))

    async def waiting(self, event_id: str, ticket_type_ids: list[str]) -> dict[str, int]:
        return await self._store.waiting(event_id, ticket_type_ids)

    async def offer(self, event_id: str) -> int:
        """The offer step: offer returned tickets to the heads of the line and enqueue the
        emails of offers not yet enqueued. Returns how many offers it made."""
        made = 0
        for _ in range(MAX_ROUNDS):
            now = self._clock()
            result = await self._store.offer(event_id, now, now + self._offer_ms, BATCH)
            if not result.ok:  # not loaded: the next hold or reconciler pass loads it
                return made
            offers = list(result.get("offers"))
            made += len(offers)
            notes = list(result.get("notes"))
            if notes:
                await self._enqueue(event_id, notes, now)
            if len(offers) + int(result.get("lapsed") or 0) < BATCH:
                return made
        return made

    async def tickets_returned(self, event_id: str) -> None:
        """Call after tickets went back to an event's inventory. Never raises: the
        reconciler's pass runs the offer step again, so a failure here only delays it."""
        try:
            await self.offer(event_id)
        except Exception as exc:
            log.warning("waitlist: offer step of %s failed (the reconciler retries): %s",
                        event_id, exc)

    async def _enqueue(self, event_id: str, notes: list[dict[str, object]], now: int) -> None:
        notices = [WaitlistOfferNotice(
            entry_id=str(n["entry_id"]), event_id=event_id, user_id=str(n["user_id"]),
            hold_id=str(n["hold_id"]), ticket_type_id=str(n["ticket_type_id"]),
            quantity=_int(n["quantity"]), unit_price=_int(n["unit_price"]),
            total=_int(n["total"]), currency=str(n["currency"]),
            offer_expires_at=_int(n["offer_expires_at"])) for n in notes]
        await self._notices.add_waitlist_offers(notices, now)
        # Only now, with the emails in the outbox: a crash before this line leaves the
        # notes for the next offer step, which enqueues them again (idempotently).
        await self._store.notices_done(event_id, [n.entry_id for n in notices])


def _int(value: object) -> int:
    return int(str(value))


def _join_error(result: ScriptResult) -> Exception:
    error = result.error
    if error == "not_on_sale":
        return NotOnSale(f"event is {result.get('status') or 'not on sale'}")
    if error == "unknown_ticket_type":
        return InvalidInput("unknown ticket type", field="ticket_type_id")
    if error == "bad_quantity":
        return InvalidInput("quantity must be a positive integer", field="quantity")
    if error == "over_capacity":
        return InvalidInput(f"this ticket type has {result.get('capacity')} tickets in all",
                            field="quantity")
    if error == "tickets_available":
        return TicketsAvailable(f"{result.get('available')} tickets of this type are "
                                "available: hold them instead", field="ticket_type_id")
    if error == "per_user_limit":
        limit, held = int(result.get("limit")), int(result.get("held"))
        return PerUserLimit(f"at most {limit} tickets per buyer for this event; you hold or "
                            f"bought {held}", field="quantity")
    if error == "not_loaded":
        return NotFound("event not found")
    return RuntimeError(f"waitlist_join answered {error!r}")
