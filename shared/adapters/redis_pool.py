"""A bounded Redis connection pool whose callers wait for a free connection.

redis-py's ``BlockingConnectionPool`` waits the same way, but takes an ``asyncio.Condition``
and a timeout context on every command, free connection or not: in the on-sale profile
that was a tenth of an API worker's CPU (docs/architecture.md §8). Here a command that finds
a connection takes it at once (``ConnectionPool``'s own path), and only a caller that finds
all ``max_connections`` in use waits, in line, until a release wakes it or ``timeout``
passes (then ``ConnectionError``, as the blocking pool raises).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from typing import Any

from redis.asyncio import ConnectionPool
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError


class WaitingConnectionPool(ConnectionPool):
    def __init__(self, *, timeout: float = 10.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeout = timeout
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        if not self.can_get_connection():
            await self._wait_for_a_release()
        # Nothing suspends between the check and ConnectionPool taking the connection
        # (its lock is free: no one holds it across an await), so it is still there.
        return await super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call,no-any-return]

    async def _wait_for_a_release(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while not self.can_get_connection():
            left = deadline - loop.time()
            if left <= 0:
                raise RedisConnectionError("No connection available.")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout(left):  # not wait_for: on 3.11 it can eat a cancel
                    await waiter
            except TimeoutError:
                raise RedisConnectionError("No connection available.") from None
            except BaseException:
                # Cancelled after a release chose this caller: pass the turn on.
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()
                raise
            finally:
                if not waiter.done() or waiter.cancelled():
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def release(self, connection: AbstractConnection) -> None:
        await super().release(connection)
        self._wake_one()
