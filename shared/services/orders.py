"""Orders as the buyer sees them: final orders come from the ledger; an order still being
paid for exists only as its hold in checkout, and answers ``pending`` (a hold in Redis, or
in SQL for an order made in degraded mode).

The hold is asked first: the order page long-polls orders that are mostly still being paid
for, and one Redis script answers those without a ledger read. Finalize writes the ledger
before it commits the hold, so a hold still in checkout may belong to an order the ledger
has just decided: the answer is then ``pending`` a moment longer, and the finalizer's notice,
sent after the commit, wakes the long poll to read it again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from shared import ids
from shared.errors import NotFound, StoreUnavailable
from shared.models import HoldStatus, Order, OrderPage, OrderStatus, Principal
from shared.ports import InventoryStore, Ledger
from shared.services.degraded import DegradedPurchases


class OrderService:
    def __init__(self, store: InventoryStore, ledger: Ledger,
                 degraded: DegradedPurchases | None = None) -> None:
        self._store = store
        self._ledger = ledger
        self._degraded = degraded

    async def get(self, user: Principal, order_id: str) -> Order:
        return (await self._find(user, order_id, self._ledger.get_order)).order

    async def page(self, user: Principal, order_id: str, *, noticed: bool = False) -> OrderPage:
        """The order as its page shows it (refunds, check-ins). ``noticed``: a finalizer's
        notice said it was decided, so it is in the ledger: read there first (one Redis round
        trip fewer per confirmation; the Redis path still answers if it is not)."""
        if noticed and not ids.is_degraded_id(order_id):
            page = await self._ledger.order_page(order_id)
            if page is not None and page.order.user_id == user.user_id:
                return page
        return await self._find(user, order_id, self._ledger.order_page)

    async def _find(self, user: Principal, order_id: str,
                    read: Callable[[str], Awaitable[Order | OrderPage | None]]) -> OrderPage:
        found: Order | OrderPage | None
        if ids.is_degraded_id(order_id) and self._degraded is not None:
            found = await read(order_id) or await self._degraded.pending_order(order_id)
        else:
            found = await self._in_redis_or_ledger(order_id, read)
        page = OrderPage(found) if isinstance(found, Order) else found
        if page is None or page.order.user_id != user.user_id:
            raise NotFound("order not found")
        return page

    async def _in_redis_or_ledger(
        self, order_id: str, read: Callable[[str], Awaitable[Order | OrderPage | None]],
    ) -> Order | OrderPage | None:
        event_id = ids.event_of(order_id)
        if event_id is None:
            return None
        try:
            hold = await self._store.hold_of_order(event_id, order_id)
        except StoreUnavailable:
            # Redis down: a decided order is in the ledger; a pending one cannot be told
            # from an unknown one, so the caller hears that Redis is down (503).
            if (found := await read(order_id)) is None:
                raise
            return found
        if hold is not None and hold.status == HoldStatus.CHECKOUT:
            return Order(
                id=order_id, hold_id=hold.id, event_id=hold.event_id, user_id=hold.user_id,
                status=OrderStatus.PENDING, total=hold.total, currency=hold.currency,
                created_at=hold.created_at,
            )
        return await read(order_id)

    async def mine(self, user: Principal, limit: int = 50) -> list[Order]:
        return await self._ledger.orders_of_user(user.user_id, limit)
