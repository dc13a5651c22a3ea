"""SessionCache on Redis: ``sess:<sha256 of token>`` -> principal JSON, expiring with it."""

from __future__ import annotations

import json
from dataclasses import asdict

from redis.asyncio import Redis, RedisCluster

from shared.adapters.redis_keys import session_key
from shared.models import Principal


class RedisSessionCache:
    def __init__(self, redis: Redis | RedisCluster) -> None:
        self._redis = redis

    async def get(self, token_hash: str) -> Principal | None:
        raw = await self._redis.get(session_key(token_hash))
        return Principal(**json.loads(raw)) if raw else None

    async def put(self, token_hash: str, principal: Principal, ttl_ms: int) -> None:
        if ttl_ms > 0:
            await self._redis.set(session_key(token_hash), json.dumps(asdict(principal)), px=ttl_ms)

    async def delete(self, token_hash: str) -> None:
        await self._redis.delete(session_key(token_hash))
