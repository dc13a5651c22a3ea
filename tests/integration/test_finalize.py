"""The payments handler against real Redis and a real SQLite ledger: idempotency, crashes,
declines, expiry, dead-lettering, the ledger's own oversell guard, and lost Redis data.
Every test ends with the inventory invariant."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa

from shared.adapters.redis_keys import INV, event_keys
from shared.adapters.redis_stream_bus import StreamConsumer
from shared.adapters.simulated_gateway import SimulatedGateway
from shared.adapters.sql_ledger import SqlLedger
from shared.adapters.sql_schema import orders, payments, tickets
from shared.errors import HoldExpired, PaymentUnavailable
from shared.models import (
    Charge,
    Event,
    LineItem,
    Order,
    OrderStatus,
    PaymentRequest,
    Principal,
    Ticket,
)
from shared.runtime import Runtime
from tests.support import Clock, assert_invariant, make_buyer, make_event, type_id, wait_until


def gateway(rt: Runtime) -> SimulatedGateway:
    assert isinstance(rt.gateway, SimulatedGateway)
    return rt.gateway


async def checked_out(rt: Runtime, event: Event, user: Principal, qty: int = 2,
                      token: str = "tok_visa") -> PaymentRequest:
    """Hold ``qty`` GA tickets and check out; returns the message checkout published."""
    hold = await rt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), qty)])
    hold = await rt.checkout.checkout(user, hold.id, token)
    assert hold.order_id
    return PaymentRequest(
        order_id=hold.order_id, hold_id=hold.id, event_id=event.id, user_id=user.user_id,
        items=hold.items, amount=hold.total, currency=hold.currency, payment_token=token)


def count(rt: Runtime, table: sa.Table) -> int:
    with rt.ledger.engine.begin() as c:
        return int(c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


async def test_a_paid_order_is_confirmed_with_its_tickets(rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 10})
    _, user = await make_buyer(rt)
    request = await checked_out(rt, event, user, 3)
    order = await rt.finalizer.handle(request)
    assert order.status == OrderStatus.CONFIRMED
    assert len(order.tickets) == 3 and len({t.code for t in order.tickets}) == 3
    assert (await rt.ledger.inventory(event.id))[0].sold == 3
    hold = await rt.store.get_hold(event.id, request.hold_id)
    assert hold is not None and hold.status == "committed"
    assert await rt.store.availability(event.id) == {type_id(event, "GA"): 7}
    await assert_invariant(rt, event.id)


async def test_same_message_twice_and_concurrently_makes_one_order_one_charge(
        rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 10})
    _, user = await make_buyer(rt)
    request = await checked_out(rt, event, user)
    results = await asyncio.gather(*(rt.finalizer.handle(request) for _ in range(8)))
    again = await rt.finalizer.handle(request)
    assert {r.id for r in [*results, again]} == {request.order_id}
    assert all(r.status == OrderStatus.CONFIRMED for r in results)
    assert gateway(rt).stats() == {"charged": 1, "refunded": 0}
    assert count(rt, orders) == 1 and count(rt, tickets) == 2 and count(rt, payments) == 1
    assert (await rt.ledger.inventory(event.id))[0].sold == 2
    await assert_invariant(rt, event.id)


class CrashingLedger(SqlLedger):
    """Dies after the charge and before the SQL commit, the first time only."""

    crashes = 1

    async def record_confirmed(self, request: PaymentRequest, charge: Charge,
                               new_tickets: Sequence[Ticket], now: int) -> Order:
        if self.crashes:
            self.crashes -= 1
            raise ConnectionError("process died before COMMIT (simulated)")
        return await super().record_confirmed(request, charge, new_tickets, now)


async def test_crash_between_charge_and_commit_then_redelivery_charges_once(
        rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 10})
    _, user = await make_buyer(rt)
    request = await checked_out(rt, event, user)
    rt.ledger.__class__ = CrashingLedger  # the same engine and files, with the fault
    with pytest.raises(ConnectionError):
        await rt.finalizer.handle(request)
    assert gateway(rt).stats()["charged"] == 1 and count(rt, orders) == 0
    order = await rt.finalizer.handle(request)  # the redelivery
    assert order.status == OrderStatus.CONFIRMED
    assert gateway(rt).stats() == {"charged": 1, "refunded": 0}
    assert count(rt, orders) == 1 and count(rt, payments) == 1
    await assert_invariant(rt, event.id)


async def test_declined_payment_fails_the_order_and_returns_the_tickets(rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 10}, per_user_limit=2)
    _, user = await make_buyer(rt)
    request = await checked_out(rt, event, user, 2, token="tok_chargeDeclined")
    order = await rt.finalizer.handle(request)
    assert (order.status, order.reason) == (OrderStatus.FAILED, "payment_declined")
    assert await rt.store.availability(event.id) == {type_id(event, "GA"): 10}
    assert gateway(rt).stats()["charged"] == 0
    # The per-user allowance came back with the tickets.
    await rt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), 2)])
    await assert_invariant(rt, event.id)


async def test_expired_hold_returns_its_tickets(rt: Runtime, clock: Clock) -> None:
    event = await make_event(rt, {"GA": 5})
    _, user = await make_buyer(rt)
    hold = await rt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), 3)])
    assert await rt.store.availability(event.id) == {type_id(event, "GA"): 2}
    clock.advance(rt.settings.hold_seconds + 1)
    report = await rt.reconciler.run_once(clock())
    assert report.released == 1
    assert await rt.store.availability(event.id) == {type_id(event, "GA"): 5}
    with pytest.raises(HoldExpired):
        await rt.checkout.checkout(user, hold.id, "tok_visa")
    await assert_invariant(rt, event.id)


async def test_a_new_hold_heals_expired_holds_before_the_timer_runs(
        rt: Runtime, clock: Clock) -> None:
    event = await make_event(rt, {"GA": 4})
    ga = type_id(event, "GA")
    for _ in range(2):
        _, user = await make_buyer(rt)
        await rt.holds.create(user, event.id, [LineItem(ga, 2)])
    clock.advance(rt.settings.hold_seconds + 1)
    _, late = await make_buyer(rt)
    await rt.holds.create(late, event.id, [LineItem(ga, 4)])  # would be sold out unhealed
    assert await rt.store.availability(event.id) == {ga: 0}
    await assert_invariant(rt, event.id)


async def test_transient_failures_retry_then_dead_letter_fails_the_order(rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 10})
    _, user = await make_buyer(rt)
    request = await checked_out(rt, event, user, 2, token="tok_processingError")
    with pytest.raises(PaymentUnavailable):
        await rt.finalizer.handle(request)
    main = StreamConsumer(rt.redis, rt.stream_names, rt.finalizer.handle_batch, consumer="t",
                          max_delivery_count=3, redelivery_ms=50, block_ms=50)
    dlq = StreamConsumer(rt.redis, rt.stream_names, rt.finalizer.handle_dead_letter_batch,
                         consumer="t", dead_letter_stream=True, redelivery_ms=50, block_ms=50)
    await main.ensure_group()
    await dlq.ensure_group()

    async def dead_lettered() -> bool:
        # Redelivery needs 50 ms without an ack, so real time must pass between passes.
        await main.run_once(block=False)
        await dlq.run_once(block=False)
        return await rt.ledger.get_order(request.order_id) is not None

    await wait_until(dead_lettered, "redelivered, dead-lettered and failed", interval=0.03)
    order = await rt.ledger.get_order(request.order_id)
    assert order is not None and (order.status, order.reason) == (OrderStatus.FAILED,
                                                                  "payment_error")
    dead: Any = await rt.redis.xrange(rt.stream_names.dlq)
    assert len(dead) == 1 and dead[0][1]["delivery_count"] == "3"
    assert await main.depth() == {rt.stream_names.stream: 0, rt.stream_names.dlq: 0}
    assert await rt.store.availability(event.id) == {type_id(event, "GA"): 10}
    await assert_invariant(rt, event.id)


async def test_transient_failure_then_success_confirms_once(rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 10})
    _, user = await make_buyer(rt)
    request = await checked_out(rt, event, user)
    real = rt.gateway.charge
    failures = iter([PaymentUnavailable("gateway timeout (injected)")])

    async def flaky(**kwargs: Any) -> Charge:
        for exc in failures:
            raise exc
        return await real(**kwargs)

    rt.gateway.charge = flaky  # type: ignore[method-assign]
    with pytest.raises(PaymentUnavailable):
        await rt.finalizer.handle(request)
    order = await rt.finalizer.handle(request)
    assert order.status == OrderStatus.CONFIRMED
    assert gateway(rt).stats() == {"charged": 1, "refunded": 0}
    await assert_invariant(rt, event.id)


async def test_ledger_refuses_an_oversell_when_redis_inventory_is_wrong(rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 2})
    ga = type_id(event, "GA")
    _, first = await make_buyer(rt)
    await rt.finalizer.handle(await checked_out(rt, event, first, 2))
    # Redis loses data and comes back believing 2 tickets are free.
    await rt.redis.hset(event_keys(event.id)[INV], ga, 2)
    _, second = await make_buyer(rt)
    order = await rt.finalizer.handle(await checked_out(rt, event, second, 2))
    assert (order.status, order.reason) == (OrderStatus.FAILED, "sold_out")
    assert (await rt.ledger.inventory(event.id))[0].sold == 2
    assert gateway(rt).stats() == {"charged": 2, "refunded": 1}
    with rt.ledger.engine.begin() as c:
        refunded = c.execute(sa.select(payments.c.status).where(
            payments.c.order_id == order.id)).scalar_one()
    assert refunded == "refunded"
    # The CHECK constraint itself refuses, even for a statement without the guard.
    with pytest.raises(sa.exc.IntegrityError), rt.ledger.engine.begin() as c:
        c.execute(sa.text("UPDATE ticket_inventory SET sold = sold + 1"))
    # Once Redis is rebuilt from the ledger, the invariant holds again.
    await rt.redis.delete(event_keys(event.id)[INV])
    report = await rt.reconciler.run_once(rt.clock())
    assert report.loaded == 1
    assert await rt.store.availability(event.id) == {ga: 0}
    await assert_invariant(rt, event.id)


async def test_redis_restarted_empty_is_rebuilt_from_the_ledger(rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 10, "VIP": 4})
    _, user = await make_buyer(rt)
    await rt.finalizer.handle(await checked_out(rt, event, user, 3))
    await rt.redis.flushall()
    # The first request after the restart loads the event again: capacity - sold.
    assert await rt.inventory.availability(event.id) == {
        type_id(event, "GA"): 7, type_id(event, "VIP"): 4}
    await assert_invariant(rt, event.id)


async def test_checkout_stuck_past_its_window_fails_and_a_late_payment_is_refunded(
        rt: Runtime, clock: Clock) -> None:
    event = await make_event(rt, {"GA": 6})
    _, user = await make_buyer(rt)
    request = await checked_out(rt, event, user, 2)
    # The first attempt charged, then the process died; the message is not redelivered
    # before the payment window closes.
    await rt.gateway.charge(amount=request.amount, currency=request.currency,
                            token="tok_visa", idempotency_key=request.order_id)
    clock.advance(rt.settings.payment_window_seconds + 1)
    report = await rt.reconciler.run_once(clock())
    assert report.stuck_resolved == 1
    order = await rt.ledger.get_order(request.order_id)
    assert order is not None and (order.status, order.reason) == (OrderStatus.FAILED,
                                                                  "payment_timeout")
    assert gateway(rt).stats() == {"charged": 1, "refunded": 1}
    assert await rt.store.availability(event.id) == {type_id(event, "GA"): 6}
    late = await rt.finalizer.handle(request)  # the message finally arrives
    assert late.status == OrderStatus.FAILED
    assert gateway(rt).stats() == {"charged": 1, "refunded": 1}
    await assert_invariant(rt, event.id)


async def test_crash_between_ledger_commit_and_redis_commit_is_settled(rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 6})
    _, user = await make_buyer(rt)
    request = await checked_out(rt, event, user, 2)
    charge = await rt.gateway.charge(amount=request.amount, currency=request.currency,
                                     token="tok_visa", idempotency_key=request.order_id)
    ticket_rows = [Ticket(f"t{i}", request.order_id, event.id, type_id(event, "GA"), f"C{i}")
                   for i in range(2)]
    await rt.ledger.record_confirmed(request, charge, ticket_rows, rt.clock())
    hold = await rt.store.get_hold(event.id, request.hold_id)
    assert hold is not None and hold.status == "checkout"  # Redis missed the commit
    order = await rt.finalizer.handle(request)  # redelivery
    assert order.status == OrderStatus.CONFIRMED
    hold = await rt.store.get_hold(event.id, request.hold_id)
    assert hold is not None and hold.status == "committed"
    assert gateway(rt).stats() == {"charged": 1, "refunded": 0}
    await assert_invariant(rt, event.id)
