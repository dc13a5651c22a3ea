"""RateLimiter on Redis: a GCRA bucket per key, taken atomically by ``rate_limit.lua``."""

from __future__ import annotations

import json

from redis.asyncio import Redis, RedisCluster

from shared.adapters import lua_scripts
from shared.settings import Rate


class RedisRateLimiter:
    def __init__(self, redis: Redis | RedisCluster) -> None:
        self._redis = redis
        self._script = redis.register_script(lua_scripts.source("rate_limit"))

    async def take(self, bucket: str, rate: Rate, now: int, *, cost: int = 1,
                   dry_run: bool = False) -> int:
        raw = await self._script(keys=[bucket], args=[rate.limit, rate.window_ms, now, cost,
                                                      "1" if dry_run else "0"])
        answer = json.loads(raw)
        return 0 if answer["ok"] else int(answer["retry_after_ms"])

    async def reset(self, bucket: str) -> None:
        await self._redis.delete(bucket)
