"""SessionCache on Redis: ``sess:<sha256 of token>`` -> principal JSON, expiring with it;
and the revocation feed: token hashes published on ``sess:revoked`` so every instance drops
them from its in-process cache at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict

from redis.asyncio import Redis, RedisCluster

from shared.adapters.redis_keys import session_key
from shared.adapters.redis_pubsub import subscribe_forever
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


CHANNEL = "sess:revoked"


class RedisRevocationFeed:
    def __init__(self, redis: Redis | RedisCluster) -> None:
        self._redis = redis

    async def publish(self, token_hashes: Sequence[str]) -> None:
        if token_hashes:
            await self._redis.publish(CHANNEL, json.dumps(list(token_hashes)))

    async def listen(self, drop: Callable[[Sequence[str]], None],
                     ready: asyncio.Event | None = None) -> None:
        """Call ``drop`` with every revoked batch until cancelled."""
        await subscribe_forever(self._redis, CHANNEL, drop, ready)
