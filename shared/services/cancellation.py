"""Cancelling a whole event: sales stop at once, then every confirmed order is refunded by a
background job that survives a crash halfway.

The job's state is the ledger itself: a row in ``event_cancellations`` says the job runs, and
the orders still to refund are those with a ticket not yet refunded, so a restarted job simply
carries on where the ledger says it stopped; each order's refund is idempotent (see
``refunds.py``). One runner at a time per event (a Redis lock with a TTL, so a crashed
runner's lock lapses); the reconciler resumes every running job on each pass. The job is done
when no order is left to refund and no hold is still active: a payment in flight when the
event was cancelled may still confirm, and is refunded then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from shared.errors import NotFound
from shared.models import Principal
from shared.ports import AuditLog, InventoryStore
from shared.ports_console import CancellationJob, ConsoleLedger, LiveInventory
from shared.services.catalog import CatalogService, EventEdit
from shared.services.refunds import RefundService

log = logging.getLogger(__name__)
LOCK_MS = 120_000


class CancellationService:
    def __init__(self, console: ConsoleLedger, refunds: RefundService, catalog: CatalogService,
                 live: LiveInventory, store: InventoryStore, audit: AuditLog,
                 clock: Callable[[], int], batch: int = 50) -> None:
        self._console = console
        self._refunds = refunds
        self._catalog = catalog
        self._live = live
        self._store = store
        self._audit = audit
        self._clock = clock
        self._batch = batch

    async def start(self, event_id: str, actor: Principal) -> CancellationJob:
        """Stop the sale and record the job; ``run`` (in the background) does the refunds."""
        await self._catalog.update_event(event_id, EventEdit(status="cancelled"), actor)
        job = await self._console.start_cancellation(event_id, actor.user_id, self._clock())
        await self._audit.record_audit(actor.user_id, "event.cancel_and_refund", event_id,
                                       {"orders": job.orders}, self._clock())
        return job

    async def progress(self, event_id: str) -> CancellationJob:
        job = await self._console.cancellation(event_id)
        if job is None:
            raise NotFound("this event has no cancellation")
        return job

    async def run(self, event_id: str, max_orders: int | None = None) -> CancellationJob | None:
        """Refund what is left; ``max_orders`` stops early (tests use it as a crash)."""
        lock = f"job:cancel:{event_id}"
        if not await self._store.lock(lock, LOCK_MS):
            return await self._console.cancellation(event_id)  # another runner has it
        try:
            job = await self._console.cancellation(event_id)
            if job is None or job.status == "done":
                return job
            actor = Principal(user_id=job.actor_id, email="", display_name="", role="admin",
                              expires_at=0)
            refunded = 0
            while True:
                # Holds first: once none is active on a cancelled event, no order can still
                # confirm, so an empty scan after it means everything is refunded.
                snap = await self._live.snapshot(event_id)
                # Holds taken in SQL during a Redis outage are not in the snapshot.
                settled = ((snap is None or not snap.holds)
                           and not await self._console.active_sql_holds(event_id))
                after = ""
                while True:
                    order_ids = await self._console.refundable_orders(event_id, after,
                                                                      self._batch)
                    if not order_ids:
                        break
                    for order_id in order_ids:
                        if max_orders is not None and refunded >= max_orders:
                            return await self._console.cancellation(event_id)
                        await self._refunds.refund(order_id, None, actor)
                        refunded += 1
                    after = order_ids[-1]
                    await self._console.touch_cancellation(event_id, self._clock())
                if not settled:
                    return await self._console.cancellation(event_id)  # next pass finishes
                if not await self._console.refundable_orders(event_id, "", 1):
                    await self._console.finish_cancellation(event_id, self._clock())
                    return await self._console.cancellation(event_id)
        finally:
            await self._store.unlock(lock)

    async def resume(self) -> int:
        """Carry on every running job (the reconciler calls this); how many finished."""
        finished = 0
        for event_id in await self._console.running_cancellations():
            try:
                job = await self.run(event_id)
                finished += bool(job and job.status == "done")
            except Exception:
                log.warning("cancellation of %s not finished yet", event_id, exc_info=True)
        return finished
