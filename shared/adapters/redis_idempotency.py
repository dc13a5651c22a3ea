"""IdempotencyStore on Redis: ``idem:<scope>`` -> the first answer of a request (JSON).

``begin`` claims a key with SET NX: a pending marker carrying the request's fingerprint and
its owner, with a short TTL (a lease) that ``renew`` extends while the request runs
(``lease_renew.lua``: only while the marker is still this owner's); ``finish`` replaces the
marker with the answer; ``abandon`` drops the marker so a request that failed on our side
can be retried with the same key. Both go through ``lease_settle.lua`` and change nothing
when the marker is no longer this owner's (its lease lapsed and a retry took the key).
"""

from __future__ import annotations

import json
from dataclasses import asdict

from redis.asyncio import Redis, RedisCluster

from shared.adapters import lua_scripts
from shared.adapters.redis_pubsub import text
from shared.ports import StoredResponse


def _parse(raw: str | None) -> StoredResponse | None:
    return StoredResponse(**json.loads(raw)) if raw else None


def _pending(fingerprint: str, owner: str) -> str:
    return json.dumps(asdict(StoredResponse(0, owner, fingerprint)))


class RedisIdempotency:
    def __init__(self, redis: Redis | RedisCluster) -> None:
        self._redis = redis
        self._renew = redis.register_script(lua_scripts.source("lease_renew"))
        self._settle = redis.register_script(lua_scripts.source("lease_settle"))

    async def begin(self, key: str, fingerprint: str, owner: str,
                    lease_ms: int) -> StoredResponse | None:
        if await self._redis.set(key, _pending(fingerprint, owner), nx=True, px=lease_ms):
            return None
        return await self.get(key) or StoredResponse(0, "", fingerprint)

    async def renew(self, key: str, fingerprint: str, owner: str, lease_ms: int) -> bool:
        return bool(await self._renew(keys=[key], args=[_pending(fingerprint, owner), lease_ms]))

    async def finish(self, key: str, fingerprint: str, owner: str, response: StoredResponse,
                     ttl_ms: int) -> bool:
        return bool(await self._settle(keys=[key], args=[
            _pending(fingerprint, owner), json.dumps(asdict(response)), ttl_ms]))

    async def abandon(self, key: str, fingerprint: str, owner: str) -> bool:
        return bool(await self._settle(keys=[key], args=[_pending(fingerprint, owner), "", 0]))

    async def get(self, key: str) -> StoredResponse | None:
        raw = await self._redis.get(key)
        return _parse(text(raw) if raw is not None else None)
