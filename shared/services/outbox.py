"""Outbox relay: publishes the payment messages that checkout could not.

A checkout puts its order in the event's outbox in the same script that moves the hold to
checkout, and takes it out once the queue accepted the message. An entry older than
``OUTBOX_RELAY_AFTER_MS`` means the server died (or the queue refused) in between: the relay
publishes it again (deduplicated on the order id; finalize is idempotent) and removes it,
and drops entries whose hold left checkout. Run often: every second by the local host, on
its own timer trigger in Azure. One event per store call (one hash slot).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.ports import CheckoutOutbox, Ledger, PaymentBus

log = logging.getLogger(__name__)

# Old enough that the checkout's own publish is surely over (it answers within a second or
# two), young enough that the buyer's order goes through within seconds of a crash.
OUTBOX_RELAY_AFTER_MS = 3_000
BATCH = 200


@dataclass
class RelayReport:
    events: int = 0
    published: int = 0
    failed: int = 0


class OutboxRelay:
    def __init__(self, outbox: CheckoutOutbox, bus: PaymentBus, ledger: Ledger,
                 relay_after_ms: int = OUTBOX_RELAY_AFTER_MS) -> None:
        self._outbox = outbox
        self._bus = bus
        self._ledger = ledger
        self._after_ms = relay_after_ms

    async def run_once(self, now: int) -> RelayReport:
        report = RelayReport()
        for event_id in await self._ledger.event_ids():
            report.events += 1
            try:
                await self._event(event_id, now, report)
            except Exception:  # one broken event must not stop the others
                log.exception("outbox: event %s failed", event_id)
        return report

    async def _event(self, event_id: str, now: int, report: RelayReport) -> None:
        for request in await self._outbox.due(event_id, now, now - self._after_ms, BATCH):
            try:
                await self._bus.publish(request)
            except Exception as exc:  # stays in the outbox: the next pass tries again
                report.failed += 1
                log.warning("outbox: publishing %s failed: %s", request.order_id, exc)
                continue
            await self._outbox.ack(event_id, request.order_id)
            report.published += 1
            log.warning("outbox: published %s, which its checkout had not", request.order_id)
