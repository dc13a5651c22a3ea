"""The waiting list on Redis: join, offer, read and leave, each one Lua script on the
event's hash slot (``lua/waitlist_*.lua``), sharing the event's inventory keys so an offer
moves tickets atomically with the inventory."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis, RedisCluster

from shared.adapters import lua_scripts
from shared.adapters.redis_keys import (
    event_keys,
    waitlist_key,
    waitlist_notes_key,
    waitlist_queue_key,
)
from shared.ports import ScriptResult

SCRIPTS = ("waitlist_join", "waitlist_offer", "waitlist_status", "waitlist_leave")


def _result(raw: Any) -> ScriptResult:
    body: dict[str, Any] = json.loads(raw)
    ok = bool(body.pop("ok"))
    for name in ("offers", "notes", "entries"):  # cjson writes an empty list as {}
        if name in body and not body[name]:
            body[name] = []
    return ScriptResult(ok=ok, error=str(body.pop("error", "")), data=body)


class RedisWaitlist:
    def __init__(self, redis: Redis | RedisCluster) -> None:
        self._redis = redis
        self._scripts = {name: redis.register_script(lua_scripts.source(name))
                         for name in SCRIPTS}

    @staticmethod
    def _keys(event_id: str, *, notes: bool = False) -> list[str]:
        keys = [*event_keys(event_id), waitlist_key(event_id), waitlist_queue_key(event_id)]
        return [*keys, waitlist_notes_key(event_id)] if notes else keys

    async def join(self, event_id: str, entry_id: str, user_id: str, ticket_type_id: str,
                   quantity: int, now: int) -> ScriptResult:
        return _result(await self._scripts["waitlist_join"](
            keys=self._keys(event_id), args=[entry_id, user_id, ticket_type_id, quantity, now]))

    async def offer(self, event_id: str, now: int, expires_at: int, limit: int) -> ScriptResult:
        return _result(await self._scripts["waitlist_offer"](
            keys=self._keys(event_id, notes=True), args=[now, expires_at, limit]))

    async def status(self, event_id: str, user_id: str) -> ScriptResult:
        return _result(await self._scripts["waitlist_status"](
            keys=self._keys(event_id), args=[user_id]))

    async def leave(self, event_id: str, entry_id: str, user_id: str, now: int) -> ScriptResult:
        return _result(await self._scripts["waitlist_leave"](
            keys=self._keys(event_id), args=[entry_id, user_id, now]))

    async def notices_done(self, event_id: str, entry_ids: Sequence[str]) -> None:
        if entry_ids:
            await self._redis.zrem(waitlist_notes_key(event_id), *entry_ids)

    async def waiting(self, event_id: str, ticket_type_ids: Sequence[str]) -> dict[str, int]:
        """Entries waiting per ticket type (0 for a type nobody waits for)."""
        if not ticket_type_ids:
            return {}
        raw = await self._redis.hmget(waitlist_key(event_id),
                                      [f"n:{t}" for t in ticket_type_ids])
        return {t: max(0, int(v or 0)) for t, v in zip(ticket_type_ids, raw, strict=True)}
