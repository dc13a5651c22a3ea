"""Degraded mode (issue 12): the purchase path in the SQL ledger while Redis is unreachable.

Holds, their checkout and their release run against ``DegradedLedger`` (one transaction
each; see ``adapters/sql_holds``); rules (prices, currency, per-user limit, status, offers)
come from the catalog store instead of ``meta:{E}``; the per-event request rate comes from
the in-process limiter. Ids minted here carry the degraded marker (``ids.is_degraded_id``),
so every later request for such a hold or order routes here, whether Redis is back or not:
SQL holds are finished in SQL, and ``sync_sql.lua`` gives their released tickets back to
Redis. Answers reuse the hold and checkout scripts' result codes, so the services map them
to HTTP exactly as in normal mode.

Limits, written down in docs/architecture.md: promo codes with a use cap are refused (their
use count lives in Redis); the per-user limit counts SQL holds and confirmed tickets, not
tickets the buyer held in Redis when it failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from shared import ids, telemetry
from shared.errors import DependencyUnavailable
from shared.models import Hold, HoldStatus, LineItem, Order, OrderStatus, PaymentRequest
from shared.ports import CatalogStore, DegradedLedger, Ledger, PaymentBus, RateLimiter, ScriptResult
from shared.settings import Settings

log = logging.getLogger(__name__)


class DegradedPurchases:
    def __init__(self, sql: DegradedLedger, ledger: Ledger, catalog: CatalogStore,
                 bus: PaymentBus, limiter: RateLimiter, settings: Settings,
                 clock: Callable[[], int], is_degraded: Callable[[], bool]) -> None:
        self.sql = sql
        self._ledger = ledger
        self._catalog = catalog
        self._bus = bus
        self._limiter = limiter
        self._settings = settings
        self._clock = clock
        self._is_degraded = is_degraded

    @property
    def active(self) -> bool:
        """True while the breaker says Redis is down: new holds come here."""
        return self._is_degraded()

    async def hold(self, user_id: str, event_id: str, items: Sequence[LineItem],
                   promo_code: str) -> ScriptResult:
        """Take a hold in SQL; answers like hold.lua (``hold`` = the record on success)."""
        now = self._clock()
        rate = self._settings.rate_holds_per_user_event
        wait = await self._limiter.take(f"rate:{event_id}:{user_id}", rate, now)
        if wait:
            return ScriptResult(False, "rate_limited", {"retry_after_ms": wait})
        event = await self._catalog.get_event(event_id)
        if event is None:
            return ScriptResult(False, "not_found")
        if event.status != "on_sale":
            return ScriptResult(False, "not_on_sale", {"status": event.status})
        prices = {t.id: t.price for t in event.ticket_types}
        lines: list[LineItem] = []
        for item in items:
            if item.ticket_type_id not in prices:
                return ScriptResult(False, "unknown_ticket_type",
                                    {"ticket_type_id": item.ticket_type_id})
            if item.quantity < 1:
                return ScriptResult(False, "bad_quantity",
                                    {"ticket_type_id": item.ticket_type_id})
            lines.append(LineItem(item.ticket_type_id, item.quantity,
                                  prices[item.ticket_type_id]))
        if not lines:
            return ScriptResult(False, "bad_quantity", {"ticket_type_id": ""})
        total = sum(i.quantity * i.unit_price for i in lines)
        discount = 0
        if promo_code:
            offer = next((o for o in event.offers if o.code == promo_code and o.active), None)
            if offer is None:
                return ScriptResult(False, "unknown_promo")
            if (offer.valid_from and now < offer.valid_from) or (
                    offer.valid_to and now >= offer.valid_to):
                return ScriptResult(False, "promo_not_valid")
            if offer.max_uses:
                raise DependencyUnavailable(
                    "promo codes with a limited number of uses cannot be applied while the "
                    "shop runs in degraded mode; retry in a minute or buy without it",
                    field="promo_code")
            discount = (total * offer.value // 100 if offer.kind == "percent"
                        else min(offer.value, total))
        hold = Hold(id=ids.new_degraded_child_id(event_id), event_id=event_id,
                    user_id=user_id, status=HoldStatus.HELD, items=tuple(lines),
                    total=total - discount, currency=event.currency, created_at=now,
                    expires_at=now + self._settings.hold_seconds * 1000,
                    promo_code=promo_code or None, discount=discount)
        result = await self.sql.take_hold(hold, event.per_user_limit)
        if not result.ok:
            return result
        telemetry.holds_degraded.add(1)
        return ScriptResult(True, data={"hold": _record(hold)})

    async def get(self, hold_id: str) -> Hold | None:
        return await self.sql.get_hold(hold_id)

    async def release(self, hold_id: str, user_id: str) -> ScriptResult:
        return await self.sql.release(hold_id, user_id, self._clock(), "cancelled",
                                      allow_checkout=False)

    async def checkout(self, hold_id: str, user_id: str, payment_token: str) -> ScriptResult:
        """Checkout with the payment message in the SQL outbox (same transaction), then one
        publish attempt; the relay (``Recovery.relay``) publishes whatever this did not."""
        hold = await self.sql.get_hold(hold_id)
        if hold is None or hold.user_id != user_id:
            return ScriptResult(False, "not_found")
        now = self._clock()
        order_id = hold.order_id or ids.new_degraded_child_id(hold.event_id)
        request = PaymentRequest(
            order_id=order_id, hold_id=hold.id, event_id=hold.event_id, user_id=user_id,
            items=hold.items, amount=hold.total, currency=hold.currency,
            payment_token=payment_token, created_at=now, trace=telemetry.inject())
        result = await self.sql.checkout(
            hold_id, user_id, order_id, now,
            now + self._settings.payment_window_seconds * 1000, request.to_json())
        if not result.ok:
            return result
        final: Hold = result.get("hold")
        if final.status == HoldStatus.CHECKOUT and final.order_id == order_id:
            try:
                await self._bus.publish(request)
                await self.sql.mark_published(order_id, self._clock())
            except Exception as exc:  # the outbox has it; the relay publishes it later
                log.info("degraded checkout: %s stays in the outbox (%s)", order_id, exc)
        return ScriptResult(True, data={"hold": _record(final)})

    async def pending_order(self, order_id: str) -> Order | None:
        """A degraded order not final yet: its SQL hold in checkout answers ``pending``."""
        hold = await self.sql.hold_of_order(order_id)
        if hold is None or hold.status != HoldStatus.CHECKOUT:
            return None
        return Order(id=order_id, hold_id=hold.id, event_id=hold.event_id,
                     user_id=hold.user_id, status=OrderStatus.PENDING, total=hold.total,
                     currency=hold.currency, created_at=hold.created_at)

    async def availability(self, event_id: str) -> dict[str, int] | None:
        """What SQL may still sell: capacity - sold - SQL held - what Redis last held."""
        lines = await self._ledger.inventory(event_id)
        if not lines:
            return None
        return {ln.ticket_type_id: max(0, ln.capacity - ln.sold - ln.held_sql - ln.held_redis)
                for ln in lines}


def _record(hold: Hold) -> dict[str, object]:
    """A hold as hold.lua's record, so ``Hold.from_record`` reads both the same way."""
    record: dict[str, object] = {
        "id": hold.id, "user_id": hold.user_id, "status": hold.status.value,
        "items": [{"ticket_type_id": i.ticket_type_id, "quantity": i.quantity,
                   "unit_price": i.unit_price} for i in hold.items],
        "total": hold.total, "currency": hold.currency, "created_at": hold.created_at,
        "expires_at": hold.expires_at, "order_id": hold.order_id or "",
        "ended_at": hold.ended_at or 0, "end_reason": hold.end_reason or "",
    }
    if hold.promo_code:
        record["promo"] = hold.promo_code
        record["discount"] = hold.discount
    return record
