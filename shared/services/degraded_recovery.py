"""Recovery from degraded mode (issue 12): the reconciler's SQL-side work, which runs whether
Redis is up or not, and the merge of the two stores, which runs when Redis answers.

SQL side, every pass: release expired SQL holds, resolve SQL checkouts past their payment
window (the ledger's order decides, as for Redis holds), and relay the outbox's unpublished
payment messages to the queue.

Merge, per event, every pass while Redis is up and once in the breaker's probe before it
closes: load the inventory when Redis lost it (``load.lua``: capacity - sold - SQL held -
Redis holds still recorded), move availability by what SQL holds took or gave back since
the last merge (``sync_sql.lua``), and record Redis's active held counts in the ledger (the
degraded-mode guard counts them while Redis is down). The probe also reloads every event's
rules and runs the ``on_recovered`` hooks (sessions revoked during the outage, the catalog
cache). Inventory invariant across both stores, per ticket type:
``redis available + redis active held + SQL held + sold == capacity``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from shared.errors import StoreUnavailable
from shared.models import FailReason, PaymentRequest
from shared.ports import DegradedLedger, InventoryStore, Ledger, PaymentBus
from shared.services.finalize import Finalizer
from shared.services.inventory import InventoryService

log = logging.getLogger(__name__)

BATCH = 200
Hook = Callable[[Sequence[str]], Awaitable[None]]


@dataclass
class SqlPassReport:
    released: int = 0
    stuck_resolved: int = 0
    relayed: int = 0


class Recovery:
    def __init__(self, store: InventoryStore, sql: DegradedLedger, ledger: Ledger,
                 inventory: InventoryService, finalizer: Finalizer, bus: PaymentBus,
                 is_degraded: Callable[[], bool],
                 on_recovered: Sequence[Hook] = ()) -> None:
        self._store = store
        self._sql = sql
        self._ledger = ledger
        self._inventory = inventory
        self._finalizer = finalizer
        self._bus = bus
        self._is_degraded = is_degraded
        self._hooks = list(on_recovered)

    @property
    def redis_down(self) -> bool:
        return self._is_degraded()

    # ---- SQL side ------------------------------------------------------------------------

    async def sql_pass(self, now: int) -> SqlPassReport:
        report = SqlPassReport()
        due = await self._sql.due(now, BATCH)  # one read; usually nothing is due
        for hold_id in due.expired:
            result = await self._sql.release(hold_id, None, now, "expired", allow_checkout=False)
            report.released += int(result.ok)
        for hold in due.stuck:
            assert hold.order_id is not None
            order = await self._ledger.get_order(hold.order_id)
            if order is None:
                log.warning("recovery: order %s outlived its payment window", hold.order_id)
                order = await self._ledger.record_failed(PaymentRequest(
                    order_id=hold.order_id, hold_id=hold.id, event_id=hold.event_id,
                    user_id=hold.user_id, items=hold.items, amount=hold.total,
                    currency=hold.currency, payment_token="", created_at=hold.created_at,
                ), FailReason.PAYMENT_TIMEOUT, now)
            await self._finalizer.settle(order)
            report.stuck_resolved += 1
        report.relayed = await self.relay(due.unpublished, now)
        return report

    async def relay(self, messages: list[tuple[str, str]], now: int) -> int:
        """Publish outbox messages not published yet (duplicates are harmless: the queue
        deduplicates on the order id and finalize is idempotent)."""
        sent = 0
        for order_id, body in messages:
            try:
                await self._bus.publish(PaymentRequest.from_json(body))
            except Exception as exc:  # the queue is still down: next pass
                log.info("recovery: outbox relay paused (%s)", exc)
                break
            await self._sql.mark_published(order_id, now)
            sent += 1
        return sent

    # ---- merge (Redis up) ------------------------------------------------------------------

    async def merge_event(self, event_id: str, now: int) -> None:
        held = await self._store.held_counts(event_id)
        if held is None:
            if not await self._inventory.load(event_id):
                return
            held = await self._store.held_counts(event_id) or {}
        taken, by_user = await self._sql.merge_state(event_id, held, now)
        await self._store.sync_sql(event_id, taken, by_user)

    async def merge_all(self, now: int) -> None:
        """The breaker's probe: everything Redis must agree with before holds return to it.
        Raises when Redis fails again (the breaker stays open); one event failing otherwise
        is logged and left to the reconciler, so it cannot keep the whole shop degraded."""
        events = await self._ledger.event_ids()
        for event_id in events:
            try:
                await self.merge_event(event_id, now)
                await self._inventory.refresh_rules(event_id)
            except StoreUnavailable:
                raise
            except Exception:
                log.exception("recovery: merging event %s failed; the reconciler retries",
                              event_id)
        for hook in self._hooks:
            await hook(events)
