"""The bounded Redis pool (``adapters/redis_pool.py``) against a real redis-server: never
more than ``max_connections`` open, callers past the bound wait their turn instead of
failing, a wait has a deadline, and a cancelled waiter does not strand the others."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from shared.adapters.redis_pool import WaitingConnectionPool
from shared.local.redis_server import RedisServer
from tests.support import wait_until


@pytest.fixture
async def pool(redis_server: RedisServer) -> AsyncIterator[WaitingConnectionPool]:
    p = WaitingConnectionPool.from_url(redis_server.url, max_connections=2, timeout=30,
                                       decode_responses=True)
    yield p
    await p.aclose()


async def _ping(pool: WaitingConnectionPool) -> bool:
    return bool(await Redis(connection_pool=pool).ping())


def _open(pool: WaitingConnectionPool) -> int:
    return len(pool._in_use_connections) + len(pool._available_connections)


async def test_callers_past_the_bound_wait_and_all_get_answers(
        pool: WaitingConnectionPool) -> None:
    client = Redis(connection_pool=pool)
    peak = 0

    async def one(n: int) -> str:
        nonlocal peak
        await client.set(f"pool:{n}", str(n))
        peak = max(peak, _open(pool))
        return str(await client.get(f"pool:{n}"))

    assert await asyncio.gather(*(one(n) for n in range(200))) == [str(n) for n in range(200)]
    assert peak <= 2 and _open(pool) <= 2


async def test_a_wait_ends_at_its_deadline_and_a_release_lets_the_next_in(
        pool: WaitingConnectionPool) -> None:
    held = [await pool.get_connection(), await pool.get_connection()]
    pool.timeout = 0.05
    with pytest.raises(RedisConnectionError, match="No connection available"):
        await _ping(pool)
    pool.timeout = 30
    waiting = asyncio.create_task(_ping(pool))

    async def queued() -> bool:
        return len(pool._waiters) == 1

    await wait_until(queued, "the caller waits for a connection")
    await pool.release(held.pop())
    assert await waiting is True
    await pool.release(held.pop())


async def test_a_cancelled_waiter_passes_its_turn_on(pool: WaitingConnectionPool) -> None:
    held = [await pool.get_connection(), await pool.get_connection()]
    first = asyncio.create_task(_ping(pool))
    second = asyncio.create_task(_ping(pool))

    async def both_queued() -> bool:
        return len(pool._waiters) == 2

    await wait_until(both_queued, "two callers wait for a connection")
    await pool.release(held.pop())  # chooses the first waiter ...
    first.cancel()  # ... which is cancelled before it runs: the second must get the turn
    assert await second is True
    with pytest.raises(asyncio.CancelledError):
        await first
    await pool.release(held.pop())
    assert not pool._waiters
