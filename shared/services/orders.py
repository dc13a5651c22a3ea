"""Orders as the buyer sees them: final orders come from the ledger; an order still being
paid for exists only as its hold in checkout, and answers ``pending`` (a hold in Redis, or
in SQL for an order made in degraded mode).

The hold is asked first: the order page long-polls orders that are mostly still being paid
for, and one Redis script answers those without a ledger read. Finalize writes the ledger
before it commits the hold, so a hold still in checkout may belong to an order the ledger
has just decided: the answer is then ``pending`` a moment longer, and the finalizer's notice,
sent after the commit, wakes the long poll to read it again."""

from __future__ import annotations

from shared import ids
from shared.errors import NotFound, StoreUnavailable
from shared.models import HoldStatus, Order, OrderStatus, Principal
from shared.ports import InventoryStore, Ledger
from shared.services.degraded import DegradedPurchases


class OrderService:
    def __init__(self, store: InventoryStore, ledger: Ledger,
                 degraded: DegradedPurchases | None = None) -> None:
        self._store = store
        self._ledger = ledger
        self._degraded = degraded

    async def get(self, user: Principal, order_id: str) -> Order:
        if ids.is_degraded_id(order_id) and self._degraded is not None:
            order = (await self._ledger.get_order(order_id)
                     or await self._degraded.pending_order(order_id))
        else:
            order = await self._in_redis_or_ledger(order_id)
        if order is None or order.user_id != user.user_id:
            raise NotFound("order not found")
        return order

    async def _in_redis_or_ledger(self, order_id: str) -> Order | None:
        event_id = ids.event_of(order_id)
        if event_id is None:
            return None
        try:
            hold = await self._store.hold_of_order(event_id, order_id)
        except StoreUnavailable:
            # Redis down: a decided order is in the ledger; a pending one cannot be told
            # from an unknown one, so the caller hears that Redis is down (503).
            if (order := await self._ledger.get_order(order_id)) is None:
                raise
            return order
        if hold is not None and hold.status == HoldStatus.CHECKOUT:
            return Order(
                id=order_id, hold_id=hold.id, event_id=hold.event_id, user_id=hold.user_id,
                status=OrderStatus.PENDING, total=hold.total, currency=hold.currency,
                created_at=hold.created_at,
            )
        return await self._ledger.get_order(order_id)

    async def mine(self, user: Principal, limit: int = 50) -> list[Order]:
        return await self._ledger.orders_of_user(user.user_id, limit)
