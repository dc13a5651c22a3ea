"""Orders as the buyer sees them: final orders come from the ledger; an order still being
paid for exists only as its hold in checkout, and answers ``pending`` (a hold in Redis, or
in SQL for an order made in degraded mode)."""

from __future__ import annotations

from shared import ids
from shared.errors import NotFound
from shared.models import Order, OrderStatus, Principal
from shared.ports import InventoryStore, Ledger
from shared.services.degraded import DegradedPurchases


class OrderService:
    def __init__(self, store: InventoryStore, ledger: Ledger,
                 degraded: DegradedPurchases | None = None) -> None:
        self._store = store
        self._ledger = ledger
        self._degraded = degraded

    async def get(self, user: Principal, order_id: str) -> Order:
        order = await self._ledger.get_order(order_id)
        if order is None and ids.is_degraded_id(order_id) and self._degraded is not None:
            order = await self._degraded.pending_order(order_id)
        elif order is None:
            event_id = ids.event_of(order_id)
            hold = await self._store.hold_of_order(event_id, order_id) if event_id else None
            if hold is not None:
                order = Order(
                    id=order_id, hold_id=hold.id, event_id=hold.event_id, user_id=hold.user_id,
                    status=OrderStatus.PENDING, total=hold.total, currency=hold.currency,
                    created_at=hold.created_at,
                )
        if order is None or order.user_id != user.user_id:
            raise NotFound("order not found")
        return order

    async def mine(self, user: Principal, limit: int = 50) -> list[Order]:
        return await self._ledger.orders_of_user(user.user_id, limit)
