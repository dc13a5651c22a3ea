"""Order notices over Redis Pub/Sub: finalize publishes the ids of orders that became final,
every API instance listens and wakes the buyers waiting on them (``OrderWaits``).

Pub/Sub delivers at most once and only to instances subscribed at that moment; that is
enough here because a waiter re-reads the ledger on its own every few seconds."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence

from redis.asyncio import Redis, RedisCluster

from shared.adapters.redis_pubsub import subscribe_forever

log = logging.getLogger(__name__)

CHANNEL = "orders:final"


class RedisOrderNotices:
    def __init__(self, redis: Redis | RedisCluster) -> None:
        self._redis = redis

    async def publish(self, order_ids: Sequence[str]) -> None:
        if not order_ids:
            return
        try:
            await self._redis.publish(CHANNEL, json.dumps(list(order_ids)))
        except Exception as exc:  # a notice only saves waiters a re-check; never fail for it
            log.warning("order notices: publish failed (%s)", exc)

    async def listen(self, on_final: Callable[[Sequence[str]], None]) -> None:
        """Call ``on_final`` with each published batch of order ids until cancelled."""
        await subscribe_forever(self._redis, CHANNEL, on_final)
