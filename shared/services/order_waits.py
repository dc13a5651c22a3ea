"""Waiting for an order to become final: the long poll behind ``GET /api/orders/{id}?wait=``.

A buyer's page asks once and hears as soon as finalize has decided, instead of polling the
ledger over and over (during an on-sale those polls were most of the API's work). Finalize
publishes the ids it decided (``OrderNotices``); each instance wakes its local waiters.
Because a notice can be lost (a Pub/Sub reconnect, an instance that subscribed late), a
waiter also re-reads the order every ``recheck`` seconds, so the worst case is a late
answer, never a wrong one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from shared.models import OrderStatus

RECHECK_SECONDS = 2.0
MAX_WAIT_SECONDS = 25.0  # under the usual 30 s proxy and front-door idle timeouts


class _HasStatus(Protocol):
    @property
    def status(self) -> OrderStatus: ...


V = TypeVar("V", bound=_HasStatus)


class OrderWaits:
    def __init__(self, recheck: float = RECHECK_SECONDS) -> None:
        self._recheck = recheck
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}

    def notify(self, order_ids: Sequence[str]) -> None:
        """Wake whoever waits on these orders (called by the notice listener)."""
        for order_id in order_ids:
            for fut in self._waiters.get(order_id, ()):
                if not fut.done():
                    fut.set_result(None)

    @property
    def waiting(self) -> int:
        """Orders someone waits on, for tests."""
        return len(self._waiters)

    async def until_final(self, order_id: str, load: Callable[[bool], Awaitable[V]],
                          wait: float) -> V:
        """The order once it is final, or as it stands after ``wait`` seconds. ``load(noticed)``
        reads it; ``noticed`` is True when a finalizer's notice for it ended the wait."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(wait, MAX_WAIT_SECONDS)
        noticed = False
        while True:
            # Registered before reading, so a notice that lands between the read and the
            # wait is not missed.
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(order_id, set()).add(fut)
            try:
                order = await load(noticed)
                left = deadline - loop.time()
                if order.status != OrderStatus.PENDING or left <= 0:
                    return order
                await asyncio.wait({fut}, timeout=min(left, self._recheck))
                noticed = fut.done()
            finally:
                waiters = self._waiters.get(order_id)
                if waiters is not None:
                    waiters.discard(fut)
                    if not waiters:
                        del self._waiters[order_id]
