"""Cache-aside for the catalog: a CatalogStore in front of another, keeping reads in Redis.

Events (``cat:event:<id>``) and listing pages (``cat:list:<generation>:<digest>``) live for
a jittered 5-10 minutes, venues (``cat:venue:<id>``) for an hour, so keys filled together do
not expire together. Offers travel inside their event's document (docs/architecture.md).
A miss is filled by one reader only (single-flight): readers in this process share one
future, and across
instances a ``cat:lock:<key>`` (SET NX) elects the filler while the others wait for the key.
Misses are cached too (``null``, 30 s), so a flood of requests for an unknown id does not reach
the store. A small in-process cache (a couple of seconds) sits in front of Redis.

Every write invalidates: the event's key is deleted, the listing generation is incremented
(which retires every cached page at once), and the change is published on ``cat:invalidate``
so every instance drops its in-process copies. If Redis is unreachable, reads go to the store
and the API keeps answering.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import RedisError

from shared.adapters.redis_pubsub import subscribe_forever, text
from shared.models import Event, Venue
from shared.ports import CatalogStore, EventFilter

log = logging.getLogger(__name__)

CHANNEL = "cat:invalidate"
GENERATION = "cat:gen"
STORE_READS = "cat:stats:store_reads"  # misses that reached the store (an ops metric)
MISSING = "null"
T = TypeVar("T")


@dataclass(frozen=True)
class CacheTtls:
    events_s: tuple[int, int] = (300, 600)
    lists_s: tuple[int, int] = (300, 600)
    venues_s: tuple[int, int] = (3600, 4200)
    missing_s: int = 30
    local_s: float = 2.0
    lock_ms: int = 5_000
    wait_s: float = 2.0


def _encode_event(event: Event | None) -> str:
    return MISSING if event is None else json.dumps(
        {"doc": event.to_document(), "etag": event.etag})


def _decode_event(raw: str) -> Event | None:
    if raw == MISSING:
        return None
    body = json.loads(raw)
    return Event.from_document(body["doc"], body["etag"])


def _encode_venue(venue: Venue | None) -> str:
    return MISSING if venue is None else json.dumps(asdict(venue))


def _decode_venue(raw: str) -> Venue | None:
    return None if raw == MISSING else Venue(**json.loads(raw))


def _encode_page(page: tuple[list[Event], str | None]) -> str:
    return json.dumps({"items": [json.loads(_encode_event(e)) for e in page[0]],
                       "next": page[1]})


def _decode_page(raw: str) -> tuple[list[Event], str | None]:
    body = json.loads(raw)
    return [Event.from_document(i["doc"], i["etag"]) for i in body["items"]], body["next"]


class CachedCatalog:
    def __init__(self, store: CatalogStore, redis: Redis | RedisCluster,
                 ttls: CacheTtls | None = None) -> None:
        self.store = store
        self._redis = redis
        self._ttls = ttls or CacheTtls()
        self._local: dict[str, tuple[float, Any]] = {}
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self._generation: tuple[int, float] | None = None  # (value, trusted until)

    # ---- reads ---------------------------------------------------------------------------

    async def get_event(self, event_id: str) -> Event | None:
        return await self._read(f"cat:event:{event_id}", lambda: self.store.get_event(event_id),
                                _encode_event, _decode_event, self._ttls.events_s)

    async def list_events(self, filters: EventFilter, cursor: str | None,
                          limit: int) -> tuple[list[Event], str | None]:
        digest = hashlib.sha256(
            json.dumps([asdict(filters), cursor, limit], sort_keys=True).encode()).hexdigest()
        try:
            generation = await self._current_generation()
        except RedisError:
            return await self.store.list_events(filters, cursor, limit)
        return await self._read(f"cat:list:{generation}:{digest[:32]}",
                                lambda: self.store.list_events(filters, cursor, limit),
                                _encode_page, _decode_page, self._ttls.lists_s)

    async def get_venue(self, venue_id: str) -> Venue | None:
        return await self._read(f"cat:venue:{venue_id}", lambda: self.store.get_venue(venue_id),
                                _encode_venue, _decode_venue, self._ttls.venues_s)

    async def list_venues(self, cursor: str | None,
                          limit: int) -> tuple[list[Venue], str | None]:
        return await self.store.list_venues(cursor, limit)  # organiser pages only: uncached

    async def put_venue(self, venue: Venue) -> Venue:
        saved = await self.store.put_venue(venue)
        await self.invalidate([f"cat:venue:{venue.id}"])
        return saved

    async def count_events(self) -> int:
        return await self.store.count_events()  # readiness: asks the store itself

    async def _read(self, key: str, load: Callable[[], Awaitable[T]],
                    encode: Callable[[T], str], decode: Callable[[str], T],
                    ttl: tuple[int, int]) -> T:
        now = time.monotonic()
        local = self._local.get(key)
        if local is not None and local[0] > now:
            cached: T = local[1]
            return cached
        pending = self._inflight.get(key)
        if pending is not None:
            shared: T = await asyncio.shield(pending)
            return shared
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await self._fill(key, load, encode, decode, ttl)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters, if any, re-raise it themselves
            raise
        else:
            future.set_result(value)
            self._remember(key, value)
            return value
        finally:
            del self._inflight[key]

    async def _fill(self, key: str, load: Callable[[], Awaitable[T]],
                    encode: Callable[[T], str], decode: Callable[[str], T],
                    ttl: tuple[int, int]) -> T:
        try:
            raw = await self._redis.get(key)
            if raw is not None:
                return decode(text(raw))
            lock = f"cat:lock:{key}"
            if not await self._redis.set(lock, "1", nx=True, px=self._ttls.lock_ms):
                # Another instance is filling this key: wait for it rather than pile on.
                deadline = time.monotonic() + self._ttls.wait_s
                while time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
                    raw = await self._redis.get(key)
                    if raw is not None:
                        return decode(text(raw))
                return await load()
            try:
                value = await load()
                await self._redis.incr(STORE_READS)
                seconds = (self._ttls.missing_s if value is None
                           else random.randint(*ttl))  # jitter, not a secret
                await self._redis.set(key, encode(value), ex=seconds)
                return value
            finally:
                await self._redis.delete(lock)
        except RedisError as exc:
            log.warning("catalog cache unavailable (%s); reading the store", type(exc).__name__)
            return await load()

    def _remember(self, key: str, value: Any) -> None:
        if len(self._local) > 2_000:
            self._local.clear()
        self._local[key] = (time.monotonic() + self._ttls.local_s, value)

    async def _current_generation(self) -> int:
        now = time.monotonic()
        if self._generation is None or self._generation[1] <= now:
            value = int(await self._redis.get(GENERATION) or 0)
            self._generation = (value, now + self._ttls.local_s)
        return self._generation[0]

    # ---- writes and invalidation ---------------------------------------------------------

    async def put_event(self, event: Event, if_match: str | None = None) -> Event:
        saved = await self.store.put_event(event, if_match)
        await self.invalidate([f"cat:event:{event.id}"])
        return saved

    async def invalidate(self, keys: Sequence[str]) -> None:
        self.drop_local(keys, None)
        try:
            for key in keys:
                await self._redis.delete(key)
            generation = int(await self._redis.incr(GENERATION))
            self._generation = (generation, time.monotonic() + self._ttls.local_s)
            await self._redis.publish(CHANNEL, json.dumps({"keys": list(keys),
                                                           "generation": generation}))
        except RedisError:
            log.warning("catalog cache invalidation failed; cached copies expire by TTL",
                        exc_info=True)

    def drop_local(self, keys: Sequence[str], generation: int | None) -> None:
        for key in keys:
            self._local.pop(key, None)
        for key in [k for k in self._local if k.startswith("cat:list:")]:
            del self._local[key]
        if generation is not None:
            self._generation = (generation, time.monotonic() + self._ttls.local_s)

    async def listen(self, ready: asyncio.Event | None = None) -> None:
        """Apply other instances' invalidations to this one's in-process cache."""
        await subscribe_forever(
            self._redis, CHANNEL,
            lambda body: self.drop_local(body["keys"], int(body["generation"])), ready)
