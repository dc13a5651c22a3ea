"""CheckoutOutbox on Redis: ``outbox:{E}``, a zset of order ids scored by time.

``checkout.lua`` adds the order there in the script that moves its hold to checkout, and
keeps the payment token and trace context in the hold record; ``outbox_due.lua`` answers the
entries old enough to need relaying (rebuilt here into payment messages) and drops those
whose hold left checkout; ``ack`` removes an order once the queue accepted its message.
One event per call: every key carries the event's hash tag.
"""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis, RedisCluster

from shared.adapters import lua_scripts
from shared.adapters.redis_keys import event_keys, outbox_key
from shared.models import Hold, PaymentRequest


def payment_request(event_id: str, record: dict[str, Any]) -> PaymentRequest:
    """The payment message of a hold in checkout, from its record (see checkout.lua)."""
    hold = Hold.from_record(event_id, record)
    assert hold.order_id is not None
    trace = json.loads(record.get("trace") or "{}")
    return PaymentRequest(
        order_id=hold.order_id, hold_id=hold.id, event_id=event_id, user_id=hold.user_id,
        items=hold.items, amount=hold.total, currency=hold.currency,
        payment_token=str(record.get("payment_token") or ""),
        created_at=int(record.get("checkout_at") or hold.created_at),
        trace={str(k): str(v) for k, v in dict(trace or {}).items()},
    )


class RedisOutbox:
    def __init__(self, redis: Redis | RedisCluster) -> None:
        self._redis = redis
        self._due = redis.register_script(lua_scripts.source("outbox_due"))

    async def due(self, event_id: str, now: int, before: int,
                  limit: int) -> list[PaymentRequest]:
        raw = await self._due(keys=[*event_keys(event_id), outbox_key(event_id)],
                              args=[now, before, limit])
        body: dict[str, Any] = json.loads(raw)
        # cjson writes an empty list as {}: either way, no entries.
        return [payment_request(event_id, rec) for rec in (body.get("due") or [])]

    async def ack(self, event_id: str, order_id: str) -> None:
        await self._redis.zrem(outbox_key(event_id), order_id)

    async def pending(self, event_id: str) -> int:
        """How many orders wait in the event's outbox (tests, operations)."""
        return int(await self._redis.zcard(outbox_key(event_id)))
