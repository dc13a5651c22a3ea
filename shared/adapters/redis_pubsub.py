"""Redis helpers shared by the adapters: text out of a reply, and a Pub/Sub subscription that
survives connection loss (each instance's in-process caches depend on it)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis, RedisCluster

log = logging.getLogger(__name__)


def text(raw: str | bytes) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


async def subscribe_forever(redis: Redis | RedisCluster, channel: str,
                            on_message: Callable[[Any], None],
                            ready: asyncio.Event | None = None) -> None:
    """Call ``on_message`` with each JSON message on ``channel`` until cancelled;
    resubscribes after errors."""
    while True:
        try:
            pubsub = redis.pubsub()
            await pubsub.subscribe(channel)
            if ready is not None:
                ready.set()
            try:
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        on_message(json.loads(message["data"]))
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("subscription to %s lost; resubscribing", channel, exc_info=True)
            await asyncio.sleep(1)
