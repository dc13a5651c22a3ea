"""Batched finalize against real Redis (the payments stream) and a real SQLite ledger: a
batch mixing a good order, a declined card, a poison message, a duplicate delivery and an
oversell settles each message on its own; a crash inside the batch transaction charges
once on redelivery; concurrent consumers draining batches sell exactly the capacity.
Every test ends with the inventory invariant."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from shared.adapters.redis_keys import INV, event_keys
from shared.adapters.redis_stream_bus import GROUP, StreamConsumer
from shared.adapters.simulated_gateway import SimulatedGateway
from shared.adapters.sql_ledger import SqlLedger
from shared.adapters.sql_schema import orders, payments, tickets
from shared.models import Event, LineItem, Order, OrderStatus, PaymentRequest, Principal
from shared.ports import Sale
from shared.runtime import Runtime
from tests.support import assert_invariant, make_buyer, make_event, type_id, wait_until


def gateway(rt: Runtime) -> SimulatedGateway:
    assert isinstance(rt.gateway, SimulatedGateway)
    return rt.gateway


async def pay(rt: Runtime, event: Event, user: Principal, type_name: str, qty: int,
              token: str = "tok_visa") -> str:
    """Hold and check out (which publishes the payment message); returns the order id."""
    hold = await rt.holds.create(user, event.id, [LineItem(type_id(event, type_name), qty)])
    hold = await rt.checkout.checkout(user, hold.id, token)
    assert hold.order_id
    return hold.order_id


def consumer(rt: Runtime, name: str = "t", batch: int = 32) -> StreamConsumer:
    return StreamConsumer(rt.redis, rt.stream_names, rt.finalizer.handle_batch, consumer=name,
                          max_delivery_count=rt.settings.max_delivery_count,
                          redelivery_ms=60_000, batch=batch, block_ms=50)


def count(rt: Runtime, table: sa.Table) -> int:
    with rt.ledger.engine.begin() as c:
        return int(c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


async def status(rt: Runtime, order_id: str) -> tuple[OrderStatus, str | None]:
    order = await rt.ledger.get_order(order_id)
    assert order is not None, f"no order {order_id}"
    return order.status, order.reason


async def test_each_message_of_a_mixed_batch_settles_on_its_own(rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 2, "VIP": 6})
    ga, vip = type_id(event, "GA"), type_id(event, "VIP")
    main = consumer(rt)
    await main.ensure_group()
    _, first = await make_buyer(rt)
    await pay(rt, event, first, "GA", 2)
    assert await main.run_once(block=False) == 1
    # Redis loses data and believes 2 GA tickets are free again: the next GA sale is an
    # oversell only the ledger can refuse.
    await rt.redis.hset(event_keys(event.id)[INV], ga, 2)
    buyers = [(await make_buyer(rt))[1] for _ in range(4)]
    oversell = await pay(rt, event, buyers[0], "GA", 2)
    good = [await pay(rt, event, buyers[1], "VIP", 1), await pay(rt, event, buyers[2], "VIP", 2)]
    declined = await pay(rt, event, buyers[3], "VIP", 1, token="tok_chargeDeclined")
    # A duplicate delivery of one message (as after a publisher retry past the dedup
    # window) and a poison message, in the same batch.
    stream = rt.stream_names.stream
    entries: Any = await rt.redis.xrange(stream)
    body = next(f["body"] for _, f in entries if f["message_id"] == good[0])
    await rt.redis.xadd(stream, {"message_id": good[0], "body": body})
    poison_id = await rt.redis.xadd(stream, {"message_id": "poison", "body": "{not json"})

    assert await main.run_once(block=False) == 6  # one batch: all six together
    assert await status(rt, oversell) == (OrderStatus.FAILED, "sold_out")
    assert [await status(rt, o) for o in good] == [(OrderStatus.CONFIRMED, None)] * 2
    assert await status(rt, declined) == (OrderStatus.FAILED, "payment_declined")
    # Sales as they should be: GA never past capacity, VIP exactly the good orders.
    assert {ln.ticket_type_id: ln.sold for ln in await rt.ledger.inventory(event.id)} == {
        ga: 2, vip: 3}
    assert count(rt, orders) == 5 and count(rt, tickets) == 2 + 3
    # One charge per paying order, the oversell's refunded; the duplicate charged nothing.
    assert gateway(rt).stats() == {"charged": 4, "refunded": 1}
    with rt.ledger.engine.begin() as c:
        assert c.execute(sa.select(payments.c.status).where(
            payments.c.order_id == oversell)).scalar_one() == "refunded"
    # Only the poison message is left pending (it dead-letters after its deliveries).
    pending: Any = await rt.redis.xpending_range(stream, GROUP, "-", "+", 10)
    assert [p["message_id"] for p in pending] == [poison_id]
    for order_id in good:
        hold = await rt.store.hold_of_order(event.id, order_id)
        assert hold is not None and hold.status == "committed"
    # Rebuild Redis from the ledger (the reconciler's job after data loss), then check.
    await rt.redis.delete(event_keys(event.id)[INV])
    await rt.reconciler.run_once(rt.clock())
    assert await rt.store.availability(event.id) == {ga: 0, vip: 3}
    await assert_invariant(rt, event.id)


class CrashingBatchLedger(SqlLedger):
    """Dies inside the batch transaction, before its COMMIT, the first time only."""

    crashes = 1

    async def record_confirmed_batch(self, sales: Sequence[Sale], now: int) -> list[Order]:
        if self.crashes:
            self.crashes -= 1
            raise ConnectionError("process died before COMMIT (simulated)")
        return await super().record_confirmed_batch(sales, now)


async def test_crash_inside_the_batch_transaction_then_redelivery_charges_once(
        rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 10})
    order_ids = [await pay(rt, event, (await make_buyer(rt))[1], "GA", 2) for _ in range(3)]
    rt.ledger.__class__ = CrashingBatchLedger  # the same engine and files, with the fault
    main = consumer(rt)
    await main.ensure_group()
    assert await main.run_once(block=False) == 3
    assert gateway(rt).stats()["charged"] == 3 and count(rt, orders) == 0
    # Nothing was acknowledged: every message is redelivered (here at once, by hand).
    entries: Any = await rt.redis.xrange(rt.stream_names.stream)
    requests = [PaymentRequest.from_json(f["body"]) for _, f in entries]
    outcomes = await rt.finalizer.handle_batch(requests)
    assert [o.status for o in outcomes if isinstance(o, Order)] == [OrderStatus.CONFIRMED] * 3
    assert {o.id for o in outcomes if isinstance(o, Order)} == set(order_ids)
    assert gateway(rt).stats() == {"charged": 3, "refunded": 0}
    assert count(rt, orders) == 3 and count(rt, payments) == 3 and count(rt, tickets) == 6
    assert (await rt.ledger.inventory(event.id))[0].sold == 6
    await assert_invariant(rt, event.id)


async def test_concurrent_consumers_draining_batches_sell_exactly_the_capacity(
        rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 40, "VIP": 10}, per_user_limit=10)
    users = [(await make_buyer(rt))[1] for _ in range(12)]
    paid: list[str] = []
    declined: list[str] = []
    for n in range(50):
        user, type_name = users[n % len(users)], ("GA" if n % 5 else "VIP")
        token = "tok_chargeDeclined" if n % 7 == 3 else "tok_visa"
        (declined if token != "tok_visa" else paid).append(
            await pay(rt, event, user, type_name, 1, token))
    consumers = [consumer(rt, f"c{i}", batch=8) for i in range(3)]
    await consumers[0].ensure_group()

    async def drained() -> bool:
        await asyncio.gather(*(c.run_once(block=False) for c in consumers))
        return (await consumers[0].depth())[rt.stream_names.stream] == 0 and \
            len(await rt.ledger.get_orders(paid + declined)) == 50

    await wait_until(drained, "drained")
    decided = await rt.ledger.get_orders(paid + declined)
    assert all(decided[o].status == OrderStatus.CONFIRMED for o in paid)
    assert all(decided[o].reason == "payment_declined" for o in declined)
    sold = {ln.ticket_type_id: ln.sold for ln in await rt.ledger.inventory(event.id)}
    assert sum(sold.values()) == len(paid) == count(rt, tickets)
    assert gateway(rt).stats() == {"charged": len(paid), "refunded": 0}
    await assert_invariant(rt, event.id)
