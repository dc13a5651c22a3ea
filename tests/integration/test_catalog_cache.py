"""The catalog cache against real Redis: hits, misses, invalidation (also of another
instance's in-process copies), negative caching, one store read under a stampede, and
reads that keep answering when Redis dies."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

from shared.adapters.redis_catalog_cache import CachedCatalog, CacheTtls
from shared.adapters.sqlite_catalog import SqliteCatalog
from shared.local.redis_server import RedisServer
from shared.models import Event
from shared.ports import EventFilter
from shared.runtime import Runtime
from tests.integration.test_catalog_contract import event
from tests.support import WAIT_SECONDS, Live, wait_until

NO_LOCAL = CacheTtls(local_s=0.0)


class CountingStore(SqliteCatalog):
    """The real SQLite store, counting the reads that reach it (optionally slow)."""

    def __init__(self, path: Path, delay: float = 0.0) -> None:
        super().__init__(path)
        self.reads = 0
        self.delay = delay

    async def get_event(self, event_id: str) -> Event | None:
        self.reads += 1
        await asyncio.sleep(self.delay)
        return await super().get_event(event_id)

    async def list_events(self, filters: EventFilter, cursor: str | None,
                          limit: int) -> tuple[list[Event], str | None]:
        self.reads += 1
        return await super().list_events(filters, cursor, limit)


@pytest.fixture
async def redis(settings: object, redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def counting(tmp_path: Path) -> CountingStore:
    return CountingStore(tmp_path / "catalog.sqlite")


async def test_reads_are_served_from_redis_after_the_first(counting: CountingStore,
                                                          redis: Redis) -> None:
    cache = CachedCatalog(counting, redis, NO_LOCAL)
    saved = await cache.put_event(event("Cached", "2027-01-01T20:00:00Z"))
    filled = time.monotonic()  # the first read below fills the key
    for _ in range(5):
        got = await cache.get_event(saved.id)
        assert got is not None and got.name == "Cached" and got.etag == saved.etag
        page, _ = await cache.list_events(EventFilter(), None, 10)
        assert [e.id for e in page] == [saved.id]
    assert counting.reads == 2  # one event read, one listing read
    assert await redis.get("cat:stats:store_reads") == "2"
    ttl = await redis.ttl(f"cat:event:{saved.id}")
    # Jittered 5-10 minutes, less the time this test took since the fill (a busy machine
    # may take several seconds over it).
    assert 300 - math.ceil(time.monotonic() - filled) - 1 <= ttl <= 600


async def test_a_write_invalidates_the_event_and_every_listing(counting: CountingStore,
                                                               redis: Redis) -> None:
    cache = CachedCatalog(counting, redis, NO_LOCAL)
    saved = await cache.put_event(event("Before", "2027-01-01T20:00:00Z"))
    await cache.get_event(saved.id)
    await cache.list_events(EventFilter(q="before"), None, 10)
    await cache.put_event(replace(saved, name="After"), if_match=saved.etag)
    got = await cache.get_event(saved.id)
    assert got is not None and got.name == "After"
    assert (await cache.list_events(EventFilter(q="before"), None, 10))[0] == []


async def test_another_instances_in_process_copy_is_dropped_at_once(
        counting: CountingStore, redis: Redis) -> None:
    writer = CachedCatalog(counting, redis, NO_LOCAL)
    reader = CachedCatalog(counting, redis, CacheTtls(local_s=600.0))  # would keep it 10 min
    ready = asyncio.Event()
    listener = asyncio.create_task(reader.listen(ready))
    await ready.wait()
    try:
        saved = await writer.put_event(event("Old name", "2027-01-01T20:00:00Z"))
        assert (await reader.get_event(saved.id)).name == "Old name"  # type: ignore[union-attr]
        await writer.put_event(replace(saved, name="New name"))

        async def renamed() -> bool:
            got = await reader.get_event(saved.id)
            return got is not None and got.name == "New name"

        # Pub/sub, not the 10-minute TTL, brings it: the wait ends when the message lands.
        await wait_until(renamed, "the reader drops its in-process copy")
    finally:
        listener.cancel()


async def test_misses_are_cached_too(counting: CountingStore, redis: Redis) -> None:
    cache = CachedCatalog(counting, redis, NO_LOCAL)
    for _ in range(10):
        assert await cache.get_event("no-such-event") is None
    assert counting.reads == 1
    assert await redis.ttl("cat:event:no-such-event") <= 30


async def test_a_stampede_on_a_cold_key_reads_the_store_once(tmp_path: Path,
                                                            redis: Redis) -> None:
    slow = CountingStore(tmp_path / "catalog.sqlite", delay=0.2)
    saved = await slow.put_event(event("Hot on-sale", "2027-01-01T20:00:00Z"))
    # Two app instances. The second waits for the first's fill up to ``wait_s`` (2 s in
    # production) before reading the store itself; a busy machine can stall the filler that
    # long, so the wait here is a deadline: the store is still read exactly once.
    patient = replace(NO_LOCAL, wait_s=WAIT_SECONDS)
    instances = [CachedCatalog(slow, redis, patient) for _ in range(2)]
    results = await asyncio.gather(*(instances[i % 2].get_event(saved.id) for i in range(200)))
    assert {r.name for r in results if r} == {"Hot on-sale"} and all(results)
    assert slow.reads == 1


async def test_reads_keep_answering_when_redis_dies(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", appendonly=False)
    client = Redis.from_url(server.start(), decode_responses=True, socket_timeout=0.5,
                            socket_connect_timeout=0.5)
    store = CountingStore(tmp_path / "catalog.sqlite")
    cache = CachedCatalog(store, client, NO_LOCAL)
    try:
        saved = await cache.put_event(event("Survivor", "2027-01-01T20:00:00Z"))
        assert (await cache.get_event(saved.id)) is not None
        server.kill()
        got = await cache.get_event(saved.id)
        assert got is not None and got.name == "Survivor"
        page, _ = await cache.list_events(EventFilter(), None, 10)
        assert [e.name for e in page] == ["Survivor"]
        edited = await cache.put_event(replace(saved, name="Edited while Redis was down"))
        assert edited.name == "Edited while Redis was down"
        assert (await cache.get_event(saved.id)).name == edited.name  # type: ignore[union-attr]
    finally:
        await client.aclose()
        server.stop()


async def test_catalog_answers_are_cacheable_and_availability_barely(rt: Runtime,
                                                                    live: Live) -> None:
    from tests.support import make_event

    made = await make_event(rt, {"GA": 5})
    async with live.client() as client:
        listing = await client.get("/api/events")
        detail = await client.get(f"/api/events/{made.id}")
        avail = await client.get(f"/api/events/{made.id}/availability")
    assert listing.headers["cache-control"].startswith("public, max-age=")
    assert detail.headers["cache-control"].startswith("public, max-age=")
    assert avail.headers["cache-control"] == "public, max-age=1"
