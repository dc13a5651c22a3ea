"""Restore: rebuild what lived only in Redis after Redis lost its data (the restore drill).

What survives a Redis loss, and where each piece comes back from:

- **Inventory** (availability per ticket type): from the ledger (capacity - sold) and the
  catalog (prices, limit, status), through ``InventoryService.load``.
- **Checkouts whose payment message is still queued**: Service Bus in Azure keeps its
  messages when Redis loses its own, so each queued message without a ledger order gets its
  hold back in checkout (same hold id, same order id, same items): availability counts it
  again, the buyer's order answers ``pending``, and the finalizer settles it as before. If
  the tickets are no longer there (or the event went off sale), the order is recorded as
  failed and any charge refunded, so no buyer is left with money taken and no order. (The
  message carries the amount, not the promo code: a re-created hold shows its undiscounted
  total while it is pending; the charge and the order use the message's amount.)
- **Charges without an order**: a finalizer that charged and then lost its message (the
  local queue is a Redis stream, lost with Redis) leaves a charge the ledger never heard
  of. Those are refunded; their buyers' checkouts cannot be resumed (the card token lived
  only in the message) and the report says how many.
- **Catalog cache**: dropped (event keys and every cached listing page) and warmed with each
  event of the ledger from the catalog store, so an on-sale's first burst does not all miss.

Not recoverable, and reported as such: holds not yet checked out (their buyers hold again;
the tickets went back on sale), queued messages when the queue itself was lost,
idempotency records, rate-limit state and per-user purchase counts kept in Redis.

Run it with the payment consumers stopped (docs/operations.md, "Restore drill"): a
finalizer running concurrently could settle an order between the check of the ledger and
the re-created checkout, counting its tickets twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from shared import ids
from shared.models import Event, FailReason, LineItem, OrderStatus, PaymentRequest
from shared.ports import (
    ChargeListing,
    InventoryStore,
    Ledger,
    PaymentGateway,
    QueuedPayments,
)
from shared.services.finalize import Finalizer
from shared.services.inventory import InventoryService
from shared.settings import Rate, Settings

log = logging.getLogger(__name__)

# Re-creating a queued checkout goes through the hold script, which applies the buyer's
# request rate; the restore is not a buyer, so its own requests must never be limited.
RESTORE_RATE = Rate(1_000_000, 1_000)
# How far back to look for charges the ledger never heard of: longer than any payment
# window, so every charge of a checkout that could still have been in flight is seen.
CHARGE_LOOKBACK_MS = 7 * 24 * 3600 * 1000


class CatalogCache(Protocol):
    """The part of the catalog cache the restore uses (CachedCatalog implements it)."""

    async def invalidate(self, keys: Sequence[str]) -> None: ...

    async def get_event(self, event_id: str) -> Event | None: ...


@dataclass
class RestoreReport:
    events: int = 0
    loaded: int = 0  # events whose inventory was rebuilt (the others were still in Redis)
    queue_lost: bool = False  # the queued payment messages were lost with Redis
    queued: int = 0  # messages found in the queue
    already_settled: int = 0  # of those, orders the ledger already has
    resumed: list[str] = field(default_factory=list)  # order ids back in checkout
    already_pending: int = 0  # checkouts Redis still had
    failed: dict[str, str] = field(default_factory=dict)  # order id -> reason
    refunded_orphans: list[str] = field(default_factory=list)  # charges with no order
    cache_warmed: int = 0

    def lines(self) -> list[str]:
        out = [
            f"inventory: {self.loaded} of {self.events} events rebuilt from the ledger",
            f"catalog cache: dropped; {self.cache_warmed} events warmed from the store",
        ]
        if self.queue_lost:
            out.append("payments queue: lost with Redis; checkouts queued there cannot be "
                       "resumed (their buyers were not charged, or are refunded below)")
        else:
            out.append(f"payments queue: {self.queued} messages; {self.already_settled} "
                       f"already settled, {len(self.resumed)} checkouts resumed, "
                       f"{self.already_pending} still pending in Redis, "
                       f"{len(self.failed)} failed")
        for order_id, reason in sorted(self.failed.items()):
            out.append(f"  failed {order_id}: {reason} (any charge refunded)")
        out.append(f"charges without an order: {len(self.refunded_orphans)} refunded")
        out.append("not recoverable: unpaid holds (tickets back on sale), idempotency "
                   "records, rate limits and per-user purchase counts")
        return out


class RestoreService:
    def __init__(self, store: InventoryStore, ledger: Ledger, inventory: InventoryService,
                 finalizer: Finalizer, queue: QueuedPayments, gateway: PaymentGateway,
                 charges: ChargeListing, cache: CatalogCache, settings: Settings,
                 clock: Callable[[], int]) -> None:
        self._store = store
        self._ledger = ledger
        self._inventory = inventory
        self._finalizer = finalizer
        self._queue = queue
        self._gateway = gateway
        self._charges = charges
        self._cache = cache
        self._settings = settings
        self._clock = clock

    async def run(self, *, reload: bool = False) -> RestoreReport:
        """``reload``: rebuild every event's availability even where Redis still has one (after
        the ledger itself was restored to an earlier point, Redis is ahead of it)."""
        report = RestoreReport()
        event_ids = await self._ledger.event_ids()
        report.events = len(event_ids)
        await self._cache.invalidate([f"cat:event:{e}" for e in event_ids])
        for event_id in event_ids:
            missing = reload or await self._store.availability(event_id) is None
            if missing and await self._inventory.load(event_id, replace=reload):
                report.loaded += 1
        queued = await self._queue.queued()
        resumable: set[str] = set()
        if queued is None:
            report.queue_lost = True
        else:
            report.queued = len(queued)
            for request in queued:
                resumable.add(request.order_id)
                await self._resume(request, report)
        await self._refund_orphans(resumable, report)
        for event_id in event_ids:
            if await self._cache.get_event(event_id) is not None:
                report.cache_warmed += 1
        return report

    async def _resume(self, request: PaymentRequest, report: RestoreReport) -> None:
        if await self._ledger.get_order(request.order_id) is not None:
            report.already_settled += 1
            return
        hold = await self._store.get_hold(request.event_id, request.hold_id)
        if hold is not None:
            report.already_pending += 1  # Redis kept this one: nothing to rebuild
            return
        now = self._clock()
        taken = await self._store.hold(
            request.event_id, request.hold_id, request.user_id,
            [LineItem(i.ticket_type_id, i.quantity) for i in request.items], now=now,
            expires_at=now + self._settings.hold_seconds * 1000, sweep=0, rate=RESTORE_RATE,
        )
        if taken.ok:
            moved = await self._store.checkout(
                request.event_id, request.hold_id, request.user_id, request.order_id, now,
                now + self._settings.payment_window_seconds * 1000, request.payment_token,
                request.trace)
            if moved.ok:
                report.resumed.append(request.order_id)
                return
            reason = FailReason.PAYMENT_ERROR.value
        else:
            reason = (FailReason.SOLD_OUT.value if taken.error == "sold_out"
                      else FailReason.PAYMENT_ERROR.value)
        log.warning("restore: checkout %s cannot be resumed (%s); failing it",
                    request.order_id, taken.error or "checkout refused")
        order = await self._ledger.record_failed(request, reason, now)
        await self._finalizer.settle(order)  # refunds a charge made before the loss
        report.failed[request.order_id] = order.reason or reason

    async def _refund_orphans(self, resumable: set[str], report: RestoreReport) -> None:
        since = self._clock() - CHARGE_LOOKBACK_MS
        for charge in await self._charges.open_charges(since):
            order_id = charge.idempotency_key
            if order_id in resumable or ids.event_of(order_id) is None:
                continue  # its checkout is back (the finalizer adopts the charge), or not ours
            order = await self._ledger.get_order(order_id)
            if order is not None and order.status == OrderStatus.CONFIRMED:
                continue
            if order is not None:
                await self._finalizer.settle(order)  # failed: settle refunds it
            else:
                log.warning("restore: charge %s has no order and no queued message; "
                            "refunding it", charge.id)
                await self._gateway.refund(charge)
            report.refunded_orphans.append(order_id)
