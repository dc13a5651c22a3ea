"""A restart of Redis loses nobody's place: the queue's state is in Redis with AOF on (as the
local host runs it), so after a restart every visitor has the same place and the admitted
pointer the same value."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from shared.adapters.redis_waiting_room import RedisWaitingRoom
from shared.local.redis_server import RedisServer

WINDOW_MS = 600_000


async def places(room: RedisWaitingRoom, users: list[str], now: int) -> dict[str, int]:
    out = {}
    for user in users:
        result = await room.status("ev", user, now, WINDOW_MS)
        out[user] = int(result.get("place"))
    return out


async def test_places_and_pointer_survive_a_restart(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", appendonly=True)
    users = [f"user-{i}" for i in range(200)]
    opens_at = 1_000_000
    try:
        client = Redis.from_url(server.start(), decode_responses=True)
        room = RedisWaitingRoom(client)
        assert (await room.configure("ev", 0, opens_at, 60)).ok
        for i, user in enumerate(users[:150]):  # pre-queue
            await room.join("ev", user, opens_at - 1_000, (i * 7919 % 150) / 150, WINDOW_MS)
        for user in users[150:]:  # after opening
            await room.join("ev", user, opens_at + 1_000, 0.5, WINDOW_MS)
        before = await places(room, users, opens_at + 30_000)
        stats = await room.stats("ev", opens_at + 30_000)
        await client.aclose()
        server.stop()  # SIGTERM: redis fsyncs the AOF

        client = Redis.from_url(server.start(), decode_responses=True)
        room = RedisWaitingRoom(client)
        assert await places(room, users, opens_at + 30_000) == before
        assert (await room.stats("ev", opens_at + 30_000)).data == stats.data
        assert sorted(before.values()) == list(range(1, 201))
        assert all(before[u] == 150 + i + 1 for i, u in enumerate(users[150:]))
        await client.aclose()
    finally:
        server.stop()
