"""InventoryStore on Redis: each inventory change is one Lua script call on one hash slot."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from shared.adapters import lua_scripts
from shared.adapters.redis_keys import (
    HOLDS,
    HPAY,
    INV,
    META,
    event_keys,
    outbox_key,
    rate_key,
    sql_users_key,
    waitlist_key,
)
from shared.adapters.redis_pubsub import text
from shared.adapters.redis_stream_bus import RedisStreamBus
from shared.models import Hold, HoldStatus, InventoryLine, LineItem
from shared.ports import EventRules, HoldCommit, PaymentBus, ScriptResult
from shared.settings import Rate

AnyRedis = Redis | RedisCluster

SCRIPTS = ("hold", "checkout", "commit", "release", "expire", "load", "capacity", "sync_sql",
           "held_counts", "hold_of_order")


def _result(raw: Any) -> ScriptResult:
    body: dict[str, Any] = json.loads(raw)
    ok = bool(body.pop("ok"))
    return ScriptResult(ok=ok, error=str(body.pop("error", "")), data=body)


class RedisInventory:
    def __init__(self, redis: AnyRedis, queue: RedisStreamBus | None = None) -> None:
        """``queue``: the local payments stream on this same Redis, which checkout.lua can
        write the payment message to in the checkout's own step (non-clustered only)."""
        self._redis = redis
        self.multi_slot_scripts = not isinstance(redis, RedisCluster)
        self._queue = queue if self.multi_slot_scripts else None
        self._scripts: dict[str, AsyncScript] = {
            name: redis.register_script(lua_scripts.source(name)) for name in SCRIPTS
        }

    async def _run(self, name: str, event_id: str, args: Sequence[str | int]) -> ScriptResult:
        raw = await self._scripts[name](keys=event_keys(event_id), args=list(args))
        return _result(raw)

    async def hold(
        self, event_id: str, hold_id: str, user_id: str, items: Sequence[LineItem],
        now: int, expires_at: int, sweep: int, rate: Rate, promo_code: str = "",
        buyer_bucket: tuple[str, Rate] | None = None,
    ) -> ScriptResult:
        keys = [*event_keys(event_id), rate_key(event_id), waitlist_key(event_id)]
        args: list[str | int] = [hold_id, user_id, now, expires_at, sweep, rate.limit,
                                 rate.window_ms, promo_code, 0, 0]
        if buyer_bucket is not None:
            if not self.multi_slot_scripts:
                raise ValueError("a clustered Redis cannot take the buyer bucket in hold.lua")
            keys.append(buyer_bucket[0])
            args[8:10] = [buyer_bucket[1].limit, buyer_bucket[1].window_ms]
        for item in items:
            args += [item.ticket_type_id, item.quantity]
        return _result(await self._scripts["hold"](keys=keys, args=args))

    async def checkout(
        self, event_id: str, hold_id: str, user_id: str, order_id: str, now: int, pay_until: int,
        payment_token: str, trace: Mapping[str, str],
        buyer_bucket: tuple[str, Rate] | None = None, queue: PaymentBus | None = None,
    ) -> ScriptResult:
        keys = [*event_keys(event_id), outbox_key(event_id)]
        args: list[str | int] = [hold_id, user_id, now, pay_until, order_id, payment_token,
                                 json.dumps(dict(trace)), "", ""]
        if buyer_bucket is not None:
            if not self.multi_slot_scripts:
                raise ValueError("a clustered Redis cannot take the buyer bucket in checkout.lua")
            keys.append(buyer_bucket[0])
            args[7:9] = [buyer_bucket[1].limit, buyer_bucket[1].window_ms]
        if queue is not None and queue is self._queue:
            keys += [self._queue.names.dedup(order_id), self._queue.names.stream]
            args += [self._queue.dedup_window_ms, event_id]
        return _result(await self._scripts["checkout"](keys=keys, args=args))

    async def commit(self, event_id: str, hold_id: str, order_id: str, now: int) -> ScriptResult:
        return await self._run("commit", event_id, [hold_id, order_id, now])

    async def commit_many(
        self, commits: Sequence[HoldCommit], now: int,
    ) -> list[ScriptResult | Exception]:
        if not commits:
            return []
        script = self._scripts["commit"]
        # EVALSHA in a plain pipeline (also on a cluster, where redis-py splits it per
        # node): one round trip, each commit still its own atomic script on its own slot.
        pipe = self._redis.pipeline(transaction=False)
        for c in commits:
            keys = event_keys(c.event_id)
            pipe.evalsha(script.sha, len(keys), *keys, c.hold_id, c.order_id, now)
        raw: list[Any] = await pipe.execute(raise_on_error=False)
        out: list[ScriptResult | Exception] = []
        for c, answer in zip(commits, raw, strict=True):
            if isinstance(answer, NoScriptError):  # a restarted server: load, call alone
                try:
                    out.append(await self.commit(c.event_id, c.hold_id, c.order_id, now))
                except Exception as exc:  # each commit settles on its own
                    out.append(exc)
            else:
                out.append(answer if isinstance(answer, Exception) else _result(answer))
        return out

    async def release(
        self, event_id: str, hold_id: str, user_id: str | None, now: int, reason: str,
        allow_checkout: bool,
    ) -> ScriptResult:
        args: list[str | int] = [hold_id, user_id or "", now, reason,
                                 "1" if allow_checkout else "0"]
        return await self._run("release", event_id, args)

    async def expire(self, event_id: str, now: int, limit: int, retention_ms: int) -> ScriptResult:
        raw = await self._scripts["expire"](keys=[*event_keys(event_id), waitlist_key(event_id)],
                                            args=[now, limit, retention_ms])
        return _result(raw)

    async def load(
        self, event_id: str, rules: EventRules, lines: Sequence[InventoryLine], *,
        replace: bool,
    ) -> dict[str, int] | None:
        mode = "replace" if replace else "if_missing"
        args: list[str | int] = [mode, rules.currency, rules.per_user_limit, rules.status]
        for line in lines:
            price = rules.prices.get(line.ticket_type_id, 0)
            args += [line.ticket_type_id, line.capacity, line.sold, price, line.held_sql,
                     line.taken_sql]
        result = await self._run("load", event_id, args)
        if not result.get("loaded"):
            return None
        return {k: int(v) for k, v in dict(result.get("available") or {}).items()}

    async def sync_sql(self, event_id: str, taken_sql: dict[str, int],
                       taken_by_user: dict[str, int]) -> ScriptResult:
        args: list[str | int] = [len(taken_sql)]
        for tt, taken in taken_sql.items():
            args += [tt, taken]
        for user, taken in taken_by_user.items():
            args += [user, taken]
        raw = await self._scripts["sync_sql"](
            keys=[*event_keys(event_id), sql_users_key(event_id)], args=args)
        return _result(raw)

    async def held_counts(self, event_id: str) -> dict[str, int] | None:
        result = await self._run("held_counts", event_id, [])
        if not result.ok:
            return None
        return {k: int(v) for k, v in dict(result.get("held") or {}).items()}

    async def set_rules(self, event_id: str, rules: EventRules) -> None:
        fields: dict[str, str | int] = {"currency": rules.currency,
                                        "limit": rules.per_user_limit, "status": rules.status}
        fields.update({f"price:{tt}": price for tt, price in rules.prices.items()})
        fields.update({f"promo:{code}": offer for code, offer in rules.promos.items()})
        key = event_keys(event_id)[META]
        await self._redis.hset(key, mapping=fields)  # type: ignore[arg-type]
        if rules.retired_promos:  # their use counts stay: a held use is given back on release
            await self._redis.hdel(key, *[f"promo:{c}" for c in rules.retired_promos])

    async def promo_uses(self, event_id: str, codes: Sequence[str]) -> dict[str, int]:
        if not codes:
            return {}
        raw = await self._redis.hmget(event_keys(event_id)[META],
                                      [f"promo_uses:{c}" for c in codes])
        return {c: int(v or 0) for c, v in zip(codes, raw, strict=True)}

    async def change_capacity(self, event_id: str, ticket_type_id: str, delta: int,
                              price: int | None = None) -> ScriptResult:
        return await self._run("capacity", event_id,
                               [ticket_type_id, delta, "" if price is None else price])

    async def lock(self, name: str, ttl_ms: int) -> bool:
        return bool(await self._redis.set(name, "1", nx=True, px=ttl_ms))

    async def unlock(self, name: str) -> None:
        await self._redis.delete(name)

    async def get_hold(self, event_id: str, hold_id: str) -> Hold | None:
        raw = await self._redis.hget(event_keys(event_id)[HOLDS], hold_id)
        return Hold.from_record(event_id, raw) if raw else None

    async def get_holds(self, wanted: Sequence[tuple[str, str]]) -> list[Hold | None]:
        if not wanted:
            return []
        # A plain pipeline (split per node on a cluster): one round trip for a whole batch.
        pipe = self._redis.pipeline(transaction=False)
        for event_id, hold_id in wanted:
            pipe.hget(event_keys(event_id)[HOLDS], hold_id)
        raw: list[Any] = await pipe.execute()
        return [Hold.from_record(event_id, r) if r else None
                for (event_id, _), r in zip(wanted, raw, strict=True)]

    async def hold_of_order(self, event_id: str, order_id: str) -> Hold | None:
        result = await self._run("hold_of_order", event_id, [order_id])
        return Hold.from_record(event_id, result.get("hold")) if result.ok else None

    async def availability(self, event_id: str) -> dict[str, int] | None:
        raw = await self._redis.hgetall(event_keys(event_id)[INV])
        if not raw:
            return None
        return {text(k): int(v) for k, v in raw.items()}

    async def active_holds(self, event_id: str) -> list[Hold]:
        """Every held or checkout hold (tests and invariant checks; O(holds))."""
        raw = await self._redis.hgetall(event_keys(event_id)[HOLDS])
        holds = [
            Hold.from_record(event_id, v) for k, v in raw.items() if not text(k).startswith("o:")
        ]
        return [h for h in holds if h.status in (HoldStatus.HELD, HoldStatus.CHECKOUT)]

    async def stuck_checkouts(self, event_id: str, before: int, limit: int) -> list[str]:
        key = event_keys(event_id)[HPAY]
        ids: Any = await self._redis.zrangebyscore(key, "-inf", before, start=0, num=limit)
        return [text(i) for i in ids]
