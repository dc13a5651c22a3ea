"""Holds: a buyer takes tickets for a while (all or nothing, within the per-user limit).

One script call on the hot path (on a single Redis server it also takes the buyer's
cross-event rate; on a cluster that bucket costs a call of its own first); the only other
call happens when the event's inventory is not in Redis yet (first hold after a restart),
which loads it and tries once more. While Redis is unreachable (its breaker is open, or the
call fails), holds are taken in the SQL ledger instead (``services/degraded``); holds made
there stay there until they end.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from shared import ids, telemetry
from shared.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    NotOnSale,
    PaymentInProgress,
    PerUserLimit,
    SoldOut,
    StoreUnavailable,
)
from shared.models import Hold, LineItem, Principal
from shared.ports import InventoryStore, ScriptResult
from shared.services.degraded import DegradedPurchases
from shared.services.inventory import InventoryService
from shared.services.limits import HOLD_REQUESTS, Limits
from shared.settings import Rate, Settings


def _field_of(items: Sequence[LineItem], ticket_type_id: str, name: str) -> str:
    for i, item in enumerate(items):
        if item.ticket_type_id == ticket_type_id:
            return f"items[{i}].{name}"
    return "items"


def _check_once_each(items: Sequence[LineItem]) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.ticket_type_id in seen:
            raise InvalidInput("each ticket type may appear once",
                               field=f"items[{i}].ticket_type_id")
        seen.add(item.ticket_type_id)


class HoldService:
    def __init__(self, store: InventoryStore, inventory: InventoryService, settings: Settings,
                 clock: Callable[[], int], limits: Limits | None = None,
                 degraded: DegradedPurchases | None = None,
                 returned: Callable[[str], Awaitable[None]] | None = None) -> None:
        self._store = store
        self._returned = returned  # the waiting list's offer step (issue 16)
        self._inventory = inventory
        self._settings = settings
        self._clock = clock
        self._limits = limits
        self._degraded = degraded

    async def create(self, user: Principal, event_id: str, items: Sequence[LineItem],
                     promo_code: str = "") -> Hold:
        if not ids.is_event_id(event_id):
            raise NotFound(f"event {event_id} not found")
        _check_once_each(items)
        # One round trip when the store can take the buyer's cross-event bucket in the hold
        # script itself (a single Redis server); two on a cluster.
        buyer_bucket = None
        if self._limits and self._store.multi_slot_scripts:
            buyer_bucket = self._limits.hold_bucket(user.user_id)
        elif self._limits:
            await self._limits.hold_attempt(user.user_id)
        promo_code = promo_code.strip().upper()
        degraded = self._degraded
        if degraded is not None and degraded.active:
            result = await self._take_in_sql(user, event_id, items, promo_code, buyer_bucket)
        else:
            try:
                result = await self._take_in_redis(event_id, user, items, promo_code,
                                                   buyer_bucket)
            except StoreUnavailable:
                if degraded is None:
                    raise
                result = await self._take_in_sql(user, event_id, items, promo_code,
                                                 buyer_bucket)
        if result.error == "not_found":
            raise NotFound(f"event {event_id} not found")
        if result.ok:
            telemetry.holds.add(1)
            return Hold.from_record(event_id, result.get("hold"))
        error, tt = result.error, str(result.get("ticket_type_id", ""))
        if error == "rate_limited" and result.get("scope") == "buyer":
            raise Limits.refused(HOLD_REQUESTS, int(result.get("retry_after_ms")))
        if error == "rate_limited":
            raise Limits.refused(f"{HOLD_REQUESTS} for this event",
                                 int(result.get("retry_after_ms")))
        if error == "sold_out":
            telemetry.sold_outs.add(1)
            raise SoldOut(f"not enough tickets of type {tt} left "
                          f"({result.get('available')} available)",
                          field=_field_of(items, tt, "quantity"))
        if error == "per_user_limit":
            limit, held = int(result.get("limit")), int(result.get("held"))
            raise PerUserLimit(f"at most {limit} tickets per buyer for this event; "
                               f"you hold or bought {held}", field="items")
        if error == "unknown_ticket_type":
            raise InvalidInput(f"unknown ticket type {tt}",
                               field=_field_of(items, tt, "ticket_type_id"))
        if error == "bad_quantity":
            raise InvalidInput("quantity must be a positive integer",
                               field=_field_of(items, tt, "quantity"))
        if error == "unknown_promo":
            raise InvalidInput("this promo code does not exist for this event",
                               field="promo_code")
        if error == "promo_not_valid":
            raise InvalidInput("this promo code is not valid at this time", field="promo_code")
        if error == "promo_used_up":
            raise Conflict("this promo code has been used up", field="promo_code")
        if error == "not_on_sale":
            raise NotOnSale(f"event is {result.get('status') or 'not on sale'}")
        raise RuntimeError(f"hold script answered {error!r}")

    async def _take_in_redis(self, event_id: str, user: Principal, items: Sequence[LineItem],
                             promo_code: str,
                             buyer_bucket: tuple[str, Rate] | None) -> ScriptResult:
        hold_id = ids.new_child_id(event_id)
        result = await self._take(event_id, hold_id, user, items, promo_code, buyer_bucket)
        if result.error == "not_loaded":
            if not await self._inventory.load(event_id):
                return ScriptResult(False, "not_found")
            result = await self._take(event_id, hold_id, user, items, promo_code, buyer_bucket)
        return result

    async def _take_in_sql(self, user: Principal, event_id: str, items: Sequence[LineItem],
                           promo_code: str,
                           buyer_bucket: tuple[str, Rate] | None) -> ScriptResult:
        assert self._degraded is not None
        if buyer_bucket is not None and self._limits:
            # The hold script would have taken the buyer's cross-event rate: take it here
            # (from the in-process limiter while Redis is down).
            await self._limits.hold_attempt(user.user_id)
        return await self._degraded.hold(user.user_id, event_id, items, promo_code)

    async def _take(self, event_id: str, hold_id: str, user: Principal,
                    items: Sequence[LineItem], promo_code: str,
                    buyer_bucket: tuple[str, Rate] | None) -> ScriptResult:
        now = self._clock()
        return await self._store.hold(
            event_id, hold_id, user.user_id, items, now=now,
            expires_at=now + self._settings.hold_seconds * 1000,
            sweep=self._settings.expired_sweep_per_hold,
            rate=self._settings.rate_holds_per_user_event, promo_code=promo_code,
            buyer_bucket=buyer_bucket,
        )

    async def get(self, user: Principal, hold_id: str) -> Hold:
        event_id = ids.event_of(hold_id)
        if event_id and ids.is_degraded_id(hold_id) and self._degraded is not None:
            hold = await self._degraded.get(hold_id)
        else:
            hold = await self._store.get_hold(event_id, hold_id) if event_id else None
        if hold is None or hold.user_id != user.user_id:
            raise NotFound("hold not found")
        return hold

    async def release(self, user: Principal, hold_id: str) -> None:
        event_id = ids.event_of(hold_id)
        if event_id is None:
            raise NotFound("hold not found")
        if ids.is_degraded_id(hold_id) and self._degraded is not None:
            result = await self._degraded.release(hold_id, user.user_id)
        else:
            result = await self._store.release(
                event_id, hold_id, user.user_id, self._clock(), "cancelled",
                allow_checkout=False)
            if result.ok and not result.get("already") and self._returned is not None:
                await self._returned(event_id)
        if result.ok:
            return
        if result.error == "in_checkout":
            raise PaymentInProgress("the payment for this hold is being processed")
        if result.error == "committed":
            raise Conflict("this hold has been paid for")
        raise NotFound("hold not found")
