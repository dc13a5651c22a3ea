"""Reconcile: the periodic repair pass (timer trigger in Azure, a loop in the local host).

For every event in the ledger: load its inventory when Redis lost it, release expired holds
(the hold script also heals a few on the way, so availability does not wait for us), purge
old hold records, and resolve checkouts that outlived their payment window: the ledger's
order decides (confirmed -> commit, failed -> release); with no order, record it failed as
``payment_timeout`` first, so a finalize that arrives later loses the race and refunds.
With degraded mode (issue 12), each pass also does the SQL side of ``Recovery`` (whether
Redis is up or not) and, while Redis is up, merges each event's two stores.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.errors import StoreUnavailable
from shared.models import FailReason, HoldStatus, PaymentRequest
from shared.ports import InventoryStore, Ledger
from shared.services.degraded_recovery import Recovery
from shared.services.finalize import Finalizer
from shared.services.inventory import InventoryService
from shared.settings import Settings

log = logging.getLogger(__name__)

BATCH = 200
MAX_ROUNDS = 50


@dataclass
class ReconcileReport:
    events: int = 0
    loaded: int = 0
    released: int = 0
    purged: int = 0
    stuck_resolved: int = 0
    sql_released: int = 0
    sql_stuck_resolved: int = 0
    relayed: int = 0
    waitlist_offers: int = 0


class Reconciler:
    def __init__(self, store: InventoryStore, ledger: Ledger, inventory: InventoryService,
                 finalizer: Finalizer, settings: Settings,
                 recovery: Recovery | None = None,
                 waitlist: Callable[[str], Awaitable[int]] | None = None) -> None:
        self._store = store
        self._waitlist = waitlist  # the waiting list's offer step (issue 16)
        self._ledger = ledger
        self._inventory = inventory
        self._finalizer = finalizer
        self._retention_ms = settings.hold_record_retention_seconds * 1000
        self._recovery = recovery

    async def run_once(self, now: int) -> ReconcileReport:
        report = ReconcileReport()
        recovery = self._recovery
        if recovery is not None:
            try:
                sql = await recovery.sql_pass(now)
                report.sql_released, report.sql_stuck_resolved = sql.released, sql.stuck_resolved
                report.relayed = sql.relayed
            except Exception:
                log.exception("reconcile: the SQL side of degraded mode failed")
            if recovery.redis_down:
                return report  # the breaker's probe merges the stores when Redis is back
        for event_id in await self._ledger.event_ids():
            report.events += 1
            try:
                await self._event(event_id, now, report)
                if recovery is not None:
                    await recovery.merge_event(event_id, now)
            except StoreUnavailable as exc:  # Redis down: degraded mode; one line, not a trace
                log.warning("reconcile: event %s waits for Redis (%s)", event_id, exc)
            except Exception:  # one broken event must not stop the others
                log.exception("reconcile: event %s failed", event_id)
        return report

    async def _event(self, event_id: str, now: int, report: ReconcileReport) -> None:
        for _ in range(MAX_ROUNDS):
            result = await self._store.expire(event_id, now, BATCH, self._retention_ms)
            if not result.ok:
                if result.error != "not_loaded" or not await self._inventory.load(event_id):
                    return
                report.loaded += 1
                continue
            released, purged = int(result.get("released")), int(result.get("purged"))
            report.released += released
            report.purged += purged
            if released < BATCH and purged < BATCH:
                break
        for hold_id in await self._store.stuck_checkouts(event_id, now, BATCH):
            if await self._resolve_stuck(event_id, hold_id, now):
                report.stuck_resolved += 1
        if self._waitlist is not None:
            # Expired holds and offers are back in inv: offer them to the people waiting,
            # and enqueue any offer email a crash left behind.
            report.waitlist_offers += await self._waitlist(event_id)

    async def _resolve_stuck(self, event_id: str, hold_id: str, now: int) -> bool:
        hold = await self._store.get_hold(event_id, hold_id)
        if hold is None or hold.status != HoldStatus.CHECKOUT or hold.order_id is None:
            return False
        order = await self._ledger.get_order(hold.order_id)
        if order is None:
            log.warning("reconcile: order %s outlived its payment window", hold.order_id)
            request = PaymentRequest(
                order_id=hold.order_id, hold_id=hold.id, event_id=event_id,
                user_id=hold.user_id, items=hold.items, amount=hold.total,
                currency=hold.currency, payment_token="", created_at=hold.created_at,
            )
            order = await self._ledger.record_failed(request, FailReason.PAYMENT_TIMEOUT, now)
        await self._finalizer.settle(order)
        return True
