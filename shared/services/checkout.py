"""Checkout: turn a hold into a pending order and queue its payment.

The hold moves to checkout (one script), gets its order id and enters the checkout outbox
in the same step; the payment request is then published with ``message_id = order_id`` and
the order leaves the outbox. If the server dies between the two, or the queue refuses, the
outbox relay (``services/outbox.py``) publishes it a few seconds later; so a failed publish
still answers 202 (the order is pending and will be paid). A retry of the same checkout
finds the same order id and publishes again, which the queue's duplicate detection and the
idempotent finalize handler absorb. When the queue is the local Redis stream on the
inventory's own server, the script appends the payment message itself in that same step
(``queue=``): nothing is left to publish or to relay.

A hold taken in degraded mode (SQL, ``ids.is_degraded_id``) checks out in SQL: the payment
message goes to the SQL outbox in the checkout's transaction, so a queue that is down
(locally it lives in Redis) delays the payment but never loses it: the answer is 202.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from opentelemetry.trace import SpanKind

from shared import faults, ids, telemetry
from shared.errors import HoldExpired, HoldNotActive, NotFound
from shared.models import Hold, HoldStatus, PaymentRequest, Principal
from shared.ports import CheckoutOutbox, InventoryStore, PaymentBus, ScriptResult
from shared.services.degraded import DegradedPurchases
from shared.services.limits import CHECKOUT_REQUESTS, Limits
from shared.settings import Settings

log = logging.getLogger(__name__)


class CheckoutService:
    def __init__(self, store: InventoryStore, bus: PaymentBus, outbox: CheckoutOutbox,
                 settings: Settings, clock: Callable[[], int],
                 limits: Limits | None = None,
                 degraded: DegradedPurchases | None = None) -> None:
        self._store = store
        self._bus = bus
        self._outbox = outbox
        self._settings = settings
        self._clock = clock
        self._limits = limits
        self._degraded = degraded

    async def checkout(self, user: Principal, hold_id: str, payment_token: str) -> Hold:
        """Returns the hold in checkout (or committed), carrying its order id."""
        with telemetry.tracer.start_as_current_span(
                "checkout", kind=SpanKind.PRODUCER, attributes={"leap.hold_id": hold_id}):
            return await self._checkout(user, hold_id, payment_token)

    async def _checkout(self, user: Principal, hold_id: str, payment_token: str) -> Hold:
        event_id = ids.event_of(hold_id)
        if event_id is None:
            raise NotFound("hold not found")
        in_sql = ids.is_degraded_id(hold_id) and self._degraded is not None
        # One round trip when the checkout script can take the buyer's rate bucket itself
        # (a single Redis server); two on a cluster, or for a hold kept in SQL.
        buyer_bucket = None
        if self._limits and self._store.multi_slot_scripts and not in_sql:
            buyer_bucket = self._limits.checkout_bucket(user.user_id)
        elif self._limits:
            await self._limits.checkout_attempt(user.user_id)
        now = self._clock()
        trace = telemetry.inject()
        result: ScriptResult
        if in_sql:
            assert self._degraded is not None
            result = await self._degraded.checkout(hold_id, user.user_id, payment_token)
        else:
            result = await self._store.checkout(
                event_id, hold_id, user.user_id, ids.new_child_id(event_id), now,
                now + self._settings.payment_window_seconds * 1000, payment_token, trace,
                buyer_bucket, queue=self._bus)
        faults.crash_point("checkout-script")
        if not result.ok:
            if result.error == "rate_limited":
                raise Limits.refused(CHECKOUT_REQUESTS, int(result.get("retry_after_ms")))
            if result.error == "expired":
                raise HoldExpired("the hold expired before checkout; its tickets were released")
            if result.error == "released":
                raise HoldNotActive(f"the hold was released ({result.get('reason')})")
            raise NotFound("hold not found")
        hold = Hold.from_record(event_id, result.get("hold"))
        assert hold.order_id is not None
        if (hold.status == HoldStatus.COMMITTED or ids.is_degraded_id(hold_id)
                or result.get("published")):
            # Paid already; or queued by the checkout script itself (the local stream), or
            # published / in the outbox by the SQL checkout.
            return hold
        request = PaymentRequest(
            order_id=hold.order_id, hold_id=hold.id, event_id=event_id, user_id=user.user_id,
            items=hold.items, amount=hold.total, currency=hold.currency,
            payment_token=payment_token, created_at=now, trace=trace,
        )
        try:
            await self._bus.publish(request)
        except Exception as exc:  # the order is in the outbox: the relay publishes it
            log.warning("checkout: publishing %s failed, left to the outbox relay: %s",
                        hold.order_id, exc)
            return hold
        try:
            await self._outbox.ack(event_id, hold.order_id)
        except Exception as exc:  # a later relay pass publishes it again (deduplicated)
            log.warning("checkout: removing %s from the outbox failed: %s", hold.order_id, exc)
        return hold
