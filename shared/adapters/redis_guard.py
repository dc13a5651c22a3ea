"""Redis clients behind the circuit breaker (``shared.breaker``).

Every command passes one choke point, ``execute_command`` (scripts, streams and plain
commands alike): while the breaker is open it fails at once with ``RedisUnavailable``;
connection errors and timeouts count as failures and are re-raised as ``RedisUnavailable``.
That exception is both a redis ``ConnectionError`` (so the API's 503 mapping and every
existing ``except RedisError`` keep working) and a ``StoreUnavailable`` (what services
catch to take the degraded path without importing Redis). The breaker's probe runs inside
``bypass()``, so it reaches Redis while the breaker is still open.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.breaker import CircuitBreaker
from shared.errors import StoreUnavailable

_BYPASS: contextvars.ContextVar[bool] = contextvars.ContextVar("redis_breaker_bypass",
                                                               default=False)
POOL_EXHAUSTED = "No connection available"  # a busy pool is load, not an outage


class RedisUnavailable(RedisConnectionError, StoreUnavailable):
    """Redis cannot be reached, or the breaker is open."""


@contextlib.contextmanager
def bypass() -> Iterator[None]:
    token = _BYPASS.set(True)
    try:
        yield
    finally:
        _BYPASS.reset(token)


async def _guarded(breaker: CircuitBreaker, call: Callable[[], Awaitable[Any]]) -> Any:
    if not _BYPASS.get() and not breaker.allow():
        raise RedisUnavailable("redis is unavailable (circuit breaker open)")
    try:
        result = await call()
    except (RedisConnectionError, RedisTimeoutError) as exc:
        if isinstance(exc, RedisUnavailable):
            raise
        if POOL_EXHAUSTED not in str(exc):
            breaker.record_failure()
        raise RedisUnavailable(f"redis is unavailable: {exc}") from exc
    breaker.record_success()
    return result


class GuardedRedis(Redis):
    breaker: CircuitBreaker

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        call = super().execute_command
        return await _guarded(self.breaker,
                              lambda: call(*args, **options))  # type: ignore[no-untyped-call]


class GuardedRedisCluster(RedisCluster):
    breaker: CircuitBreaker

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        return await _guarded(self.breaker, lambda: super(
            GuardedRedisCluster, self).execute_command(*args, **kwargs))
