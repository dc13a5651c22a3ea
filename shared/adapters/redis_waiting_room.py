"""WaitingRoomStore on Redis: an event's queue state under the event's hash tag, changed
only by the ``lua/queue_*.lua`` scripts so that every API instance agrees on it.

Keys: ``wr:{E}`` (settings and the admitted pointer's base), ``wrpre:{E}`` (pre-queue,
random scores), ``wrpos:{E}`` (user -> place), ``wradm:{E}`` (user -> admitted_at).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.commands.core import AsyncScript

from shared.adapters import lua_scripts
from shared.ports import ScriptResult

SCRIPTS = ("queue_configure", "queue_join", "queue_status", "queue_pause", "queue_stats")


def queue_keys(event_id: str) -> list[str]:
    tag = "{" + event_id + "}"
    return [f"wr:{tag}", f"wrpre:{tag}", f"wrpos:{tag}", f"wradm:{tag}"]


def _result(raw: Any) -> ScriptResult:
    body: dict[str, Any] = json.loads(raw)
    ok = bool(body.pop("ok"))
    return ScriptResult(ok=ok, error=str(body.pop("error", "")), data=body)


class RedisWaitingRoom:
    def __init__(self, redis: Redis | RedisCluster) -> None:
        self._scripts: dict[str, AsyncScript] = {
            name: redis.register_script(lua_scripts.source(name)) for name in SCRIPTS}

    async def _run(self, name: str, event_id: str, args: Sequence[str | int | float],
                   keys: int = 2) -> ScriptResult:
        raw = await self._scripts[name](keys=queue_keys(event_id)[:keys], args=list(args))
        return _result(raw)

    async def configure(self, event_id: str, now: int, opens_at: int,
                        admit_per_minute: int) -> ScriptResult:
        return await self._run("queue_configure", event_id, [now, opens_at, admit_per_minute])

    async def join(self, event_id: str, user_id: str, now: int, score: float,
                   window_ms: int) -> ScriptResult:
        return await self._run("queue_join", event_id, [user_id, now, repr(score), window_ms],
                               keys=4)

    async def status(self, event_id: str, user_id: str, now: int,
                     window_ms: int) -> ScriptResult:
        return await self._run("queue_status", event_id, [user_id, now, window_ms], keys=4)

    async def set_paused(self, event_id: str, now: int, paused: bool) -> ScriptResult:
        return await self._run("queue_pause", event_id, [now, "1" if paused else "0"])

    async def stats(self, event_id: str, now: int) -> ScriptResult:
        return await self._run("queue_stats", event_id, [now])
