"""The payments queue on a Redis Stream: the local stand-in for the Service Bus queue.

It keeps the queue's delivery rules: a message id is accepted once within the duplicate
detection window; a consumer group hands each message to one consumer; a message not
acknowledged within ``redelivery_ms`` (the lock duration) is delivered again; each delivery
counts, and past ``max_delivery_count`` the message moves to the dead-letter stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import ResponseError

from shared.adapters import lua_scripts
from shared.models import PaymentRequest

log = logging.getLogger(__name__)

AnyRedis = Redis | RedisCluster
BatchHandler = Callable[[Sequence[PaymentRequest]], Awaitable[Sequence[Any]]]
"""Handles a batch; returns one outcome per message, an Exception where it failed."""
GROUP = "finalizers"


@dataclass(frozen=True)
class StreamNames:
    stream: str
    dlq: str

    @classmethod
    def for_queue(cls, queue: str) -> StreamNames:
        tag = "{" + queue + "}"  # one hash slot: the publish and dead-letter scripts span both
        return cls(stream=f"{tag}:stream", dlq=f"{tag}:dlq")

    def dedup(self, message_id: str) -> str:
        return self.stream.replace(":stream", f":dedup:{message_id}")


class RedisStreamBus:
    """PaymentBus: XADD through ``bus_publish.lua``, deduplicated on the order id."""

    def __init__(self, redis: AnyRedis, queue: str = "payments",
                 dedup_window_ms: int = 600_000) -> None:
        self.names = StreamNames.for_queue(queue)
        self._redis = redis
        self.dedup_window_ms = dedup_window_ms
        self._publish = redis.register_script(lua_scripts.source("bus_publish"))

    async def publish(self, request: PaymentRequest) -> None:
        await self._publish(
            keys=[self.names.dedup(request.order_id), self.names.stream],
            args=[request.order_id, request.to_json(), self.dedup_window_ms],
        )


    async def queued(self) -> list[PaymentRequest] | None:
        """Every message on the stream (acknowledged ones too: the caller skips those the
        ledger already settled); None when the stream itself is gone with Redis's data."""
        if not await self._redis.exists(self.names.stream):
            return None
        out: list[PaymentRequest] = []
        start = "-"
        while True:
            rows: Any = await self._redis.xrange(self.names.stream, start, "+", count=500)
            for entry_id, fields in rows:
                try:
                    out.append(PaymentRequest.from_json(fields["body"]))
                except (KeyError, ValueError, TypeError):
                    log.error("payments: unreadable message %s skipped", entry_id)
            if len(rows) < 500:
                return out
            start = "(" + rows[-1][0]


class StreamConsumer:
    """Delivers one stream's messages to ``handler`` with queue semantics (see module doc).

    Messages go to the handler in batches of up to ``batch`` (``XREADGROUP COUNT``), and
    each settles on its own: the ones it handled are acknowledged together in one ``XACK``;
    a failed one stays pending and is redelivered after ``redelivery_ms``; an unreadable one
    (poison) also stays pending, so it reaches the dead-letter stream after its deliveries.
    With ``dead_letter_stream`` true (the consumer of the dead-letter stream itself), a
    failing message is retried after each lock period for as long as it takes.
    """

    def __init__(
        self, redis: AnyRedis, names: StreamNames, handler: BatchHandler, *, consumer: str,
        dead_letter_stream: bool = False, max_delivery_count: int = 10,
        redelivery_ms: int = 5_000, batch: int = 16, block_ms: int = 1_000,
    ) -> None:
        self._redis = redis
        self._names = names
        self._stream = names.dlq if dead_letter_stream else names.stream
        self._dead_letters = not dead_letter_stream
        self._handler = handler
        self._consumer = consumer
        self._max = max_delivery_count
        self._redelivery_ms = redelivery_ms
        self._batch = batch
        self._block_ms = block_ms
        self._deadletter = redis.register_script(lua_scripts.source("bus_deadletter"))

    @property
    def name(self) -> str:
        """This consumer's name in the group."""
        return self._consumer

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self, stop: asyncio.Event, in_flight: int = 2) -> None:
        """Consume until ``stop``, with up to ``in_flight`` batches being handled at once (the
        next batch is read while the ledger writes the last one)."""
        await self.ensure_group()
        running: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                try:
                    entries = await self._fetch(block=True)
                except asyncio.CancelledError:
                    raise
                except ResponseError as exc:
                    if "NOGROUP" not in str(exc):
                        log.exception("payments consumer: reading failed")
                    # Redis came back without our group (restarted empty): create it again.
                    with contextlib.suppress(Exception):
                        await self.ensure_group()
                    await asyncio.sleep(0.2)
                    continue
                except Exception as exc:  # keep consuming; Redis may come back
                    log.warning("payments consumer: reading failed (%s)", exc)
                    await asyncio.sleep(1)
                    continue
                if entries:
                    running.add(asyncio.create_task(self._deliver_logged(entries)))
                if len(running) >= in_flight:
                    _, running = await asyncio.wait(running,
                                                    return_when=asyncio.FIRST_COMPLETED)
        finally:
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def _deliver_logged(self, entries: list[tuple[str, dict[str, str], int]]) -> None:
        try:
            await self._deliver(entries)
        except Exception:  # its messages stay pending and are redelivered
            log.exception("payments consumer: batch failed")

    async def run_once(self, block: bool = True) -> int:
        """Redeliver overdue messages, then read new ones, and handle them; returns how
        many were handled."""
        entries = await self._fetch(block)
        await self._deliver(entries)
        return len(entries)

    async def _fetch(self, block: bool) -> list[tuple[str, dict[str, str], int]]:
        """Overdue messages (claimed for redelivery), else new ones: (id, fields, count)."""
        claim: Any = await self._redis.xautoclaim(
            self._stream, GROUP, self._consumer, min_idle_time=self._redelivery_ms,
            start_id="0-0", count=self._batch,
        )
        claimed: list[tuple[str, dict[str, str] | None]] = claim[1]
        entries: list[tuple[str, dict[str, str], int]] = []
        for entry_id, fields in claimed:
            if fields is None:
                continue
            count = await self._delivery_count(entry_id)
            if self._dead_letters and count > self._max:
                await self._to_dead_letter(entry_id, fields, count)
            else:
                entries.append((entry_id, fields, count))
        if not entries:
            response: Any = await self._redis.xreadgroup(
                GROUP, self._consumer, {self._stream: ">"}, count=self._batch,
                block=self._block_ms if block else None,
            )
            for _, messages in response or []:
                entries += [(entry_id, fields, 1) for entry_id, fields in messages]
        return entries

    async def _delivery_count(self, entry_id: str) -> int:
        rows = await self._redis.xpending_range(self._stream, GROUP, entry_id, entry_id, 1)
        return int(rows[0]["times_delivered"]) if rows else 1

    async def _to_dead_letter(self, entry_id: str, fields: dict[str, str], count: int) -> None:
        log.warning("payments: message %s dead-lettered after %d deliveries",
                    fields.get("message_id"), count - 1)
        await self._deadletter(
            keys=[self._names.stream, self._names.dlq],
            args=[GROUP, entry_id, fields.get("message_id", ""), fields.get("body", ""),
                  count - 1, "MaxDeliveryCountExceeded"],
        )

    async def _deliver(self, entries: list[tuple[str, dict[str, str], int]]) -> None:
        readable: list[tuple[str, PaymentRequest, int]] = []
        done: list[str] = []
        for entry_id, fields, count in entries:
            try:
                readable.append((entry_id, PaymentRequest.from_json(fields["body"]), count))
            except (KeyError, ValueError, TypeError, json.JSONDecodeError):
                log.error("payments: unreadable message %s", entry_id)
                if not self._dead_letters:
                    done.append(entry_id)
                # else it stays pending on the main stream, so it dead-letters in time
        if readable:
            outcomes = await self._handler([request for _, request, _ in readable])
            for (entry_id, request, count), outcome in zip(readable, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    log.error("payments: delivery %d of %s failed (%r); it will be "
                              "redelivered", count, request.order_id, outcome)
                else:
                    done.append(entry_id)
        if done:
            await self._redis.xack(self._stream, GROUP, *done)

    async def depth(self) -> dict[str, int]:
        """Pending counts, for tests and benchmarks."""
        out = {}
        for name in (self._names.stream, self._names.dlq):
            try:
                info = await self._redis.xpending(name, GROUP)
                out[name] = int(info["pending"])
            except ResponseError:
                out[name] = 0
        return out
