"""The organiser console's view of live inventory in Redis: an atomic snapshot of an event
(available and held right now) and putting refunded tickets back on sale (``restock.lua``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis, RedisCluster

from shared.adapters import lua_scripts
from shared.adapters.redis_keys import event_keys, refunds_key
from shared.ports_console import LiveSnapshot


def _quantities(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for type_id, quantity in items if isinstance(items, list) else []:
        out[str(type_id)] = out.get(str(type_id), 0) + int(quantity)
    return out


class RedisConsoleStore:
    def __init__(self, redis: Redis | RedisCluster) -> None:
        self._snapshot = redis.register_script(lua_scripts.source("snapshot"))
        self._restock = redis.register_script(lua_scripts.source("restock"))

    async def snapshot(self, event_id: str) -> LiveSnapshot | None:
        body: dict[str, Any] = json.loads(await self._snapshot(keys=event_keys(event_id),
                                                               args=[]))
        if not body.get("loaded"):
            return None
        # cjson writes an empty Lua table as {}: an empty list may arrive as a dict.
        holds = body.get("holds") or []
        return LiveSnapshot(
            available={k: int(v) for k, v in dict(body.get("available") or {}).items()},
            holds=[(str(h["hold_id"]), _quantities(h["items"]))
                   for h in (holds if isinstance(holds, list) else [])],
        )

    async def restock(self, event_id: str, refund_id: str, user_id: str,
                      quantities: Sequence[tuple[str, int]]) -> bool:
        """Give the refund's tickets back to ``inv:{E}``; False when it was done before."""
        args: list[str | int] = [refund_id, user_id]
        for type_id, quantity in quantities:
            args += [type_id, quantity]
        body = json.loads(await self._restock(
            keys=[*event_keys(event_id), refunds_key(event_id)], args=args))
        return not body.get("already")
