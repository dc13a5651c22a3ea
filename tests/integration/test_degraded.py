"""Degraded mode (issue 12) against a real redis-server of its own, killed and restarted:
the breaker fails fast, holds and checkouts go to SQL and never oversell, the worst case
(Redis held more than it last reported) is a refused payment with a refund, and recovery
merges both stores whether Redis comes back with its data or empty. Every test ends with
the inventory invariant counting both stores."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from shared import ids
from shared.adapters.redis_guard import RedisUnavailable
from shared.adapters.redis_stream_bus import StreamConsumer
from shared.adapters.simulated_gateway import SimulatedGateway
from shared.adapters.sql_schema import payment_outbox, payments
from shared.errors import DependencyUnavailable, InvalidInput, PerUserLimit, SoldOut
from shared.local.ports import free_port
from shared.local.redis_server import RedisServer
from shared.models import Hold, LineItem, Offer, OrderStatus, Principal
from shared.runtime import Runtime, build_runtime
from shared.settings import Settings
from tests.support import Clock, assert_invariant, make_buyer, make_event, type_id, wait_until


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server for this test alone (AOF, fsync always), so killing it hurts no other."""
    server = RedisServer(tmp_path / "own-redis", extra_args=("--appendfsync", "always"))
    server.start()
    yield server
    server.stop()


def degraded_settings(settings: Settings, server: RedisServer) -> Settings:
    return settings.with_(redis_url=server.url, breaker_failures=1,
                   breaker_open_seconds=0.05, breaker_max_open_seconds=0.2)


@pytest.fixture
async def drt(settings: Settings, own_redis: RedisServer,
              clock: Clock) -> AsyncIterator[Runtime]:
    runtime = build_runtime(degraded_settings(settings, own_redis), clock=clock)
    await runtime.migrate()
    yield runtime
    await runtime.close()


async def redis_back(rt: Runtime) -> None:
    """Wait until the breaker's probe (ping + recovery merge) has closed it."""
    async def closed() -> bool:
        with contextlib.suppress(RedisUnavailable):
            await rt.redis.ping()
        await rt.breaker.wait_probe()
        return not rt.breaker.is_open

    await wait_until(closed, "closed")


async def trip(rt: Runtime) -> None:
    with pytest.raises(RedisUnavailable):
        await rt.redis.ping()
    assert rt.breaker.is_open


async def drain(rt: Runtime) -> None:
    """Finalize every message on the payments stream."""
    consumer = StreamConsumer(rt.redis, rt.stream_names, rt.finalizer.handle_batch, consumer="t")
    await consumer.ensure_group()
    while await consumer.run_once(block=False):
        pass


async def hold(rt: Runtime, user: Principal, event_id: str, tt: str, qty: int = 1) -> Hold:
    return await rt.holds.create(user, event_id, [LineItem(tt, qty)])


def refunded_orders(rt: Runtime) -> set[str]:
    with rt.ledger.engine.begin() as c:
        return {r.order_id for r in c.execute(
            sa.select(payments.c.order_id).where(payments.c.status == "refunded")).all()}


async def test_open_breaker_costs_no_network_round_trip(settings: Settings) -> None:
    """A Redis that accepts connections and hangs them up: once the breaker is open, calls
    fail without opening a single connection (so no connect or read timeout is waited)."""
    accepted = 0
    listener = socket.socket()
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(64)
    stop = threading.Event()

    def serve() -> None:
        nonlocal accepted
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            accepted += 1
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    rt = build_runtime(settings.with_(redis_url=f"redis://127.0.0.1:{port}/0",
                               breaker_failures=2, breaker_open_seconds=3600))
    try:
        for _ in range(2):
            with pytest.raises(RedisUnavailable):
                await rt.redis.get("x")
        assert rt.breaker.is_open and accepted >= 2
        before = accepted
        for _ in range(200):
            with pytest.raises(RedisUnavailable):
                await rt.redis.get("x")
        assert accepted == before  # 200 refusals, not one connection attempt
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        await rt.close()


async def test_degraded_holds_stop_at_what_redis_last_reported(
        drt: Runtime, own_redis: RedisServer) -> None:
    rt = drt
    event = await make_event(rt, {"GA": 10}, per_user_limit=10)
    ga = type_id(event, "GA")
    buyers = [(await make_buyer(rt))[1] for _ in range(12)]
    for b in buyers[:4]:
        await hold(rt, b, event.id, ga)
    await rt.reconciler.run_once(rt.clock())  # the ledger now knows Redis holds 4
    own_redis.kill()
    granted: list[Hold] = []
    for b in buyers[4:]:
        try:
            granted.append(await hold(rt, b, event.id, ga))
        except SoldOut:
            break
    assert rt.breaker.is_open
    assert len(granted) == 6 and all(ids.is_degraded_id(h.id) for h in granted)
    assert (await rt.inventory.availability(event.id)) == {ga: 0}
    own_redis.start()
    await redis_back(rt)
    # Redis gave the 6 SQL-held tickets up: nothing left to sell in either store.
    assert await rt.store.availability(event.id) == {ga: 0}
    await assert_invariant(rt, event.id)
    # A SQL hold released after recovery returns its ticket to Redis at the next merge.
    await rt.holds.release(buyers[4], granted[0].id)
    await rt.reconciler.run_once(rt.clock())
    assert await rt.store.availability(event.id) == {ga: 1}
    await assert_invariant(rt, event.id)


async def test_worst_case_is_a_refused_payment_with_refund_never_an_oversell(
        drt: Runtime, own_redis: RedisServer) -> None:
    rt = drt
    event = await make_event(rt, {"GA": 10}, per_user_limit=10)
    ga = type_id(event, "GA")
    buyers = [(await make_buyer(rt))[1] for _ in range(16)]
    redis_holds = [await hold(rt, b, event.id, ga) for b in buyers[:4]]
    await rt.reconciler.run_once(rt.clock())  # reported: 4
    # Two more Redis holds after the last report: SQL cannot know them.
    redis_holds += [await hold(rt, b, event.id, ga) for b in buyers[4:6]]
    own_redis.kill()
    sql_holds: list[tuple[Principal, Hold]] = []
    for b in buyers[6:]:
        try:
            sql_holds.append((b, await hold(rt, b, event.id, ga)))
        except SoldOut:
            break
    assert len(sql_holds) == 6  # 10 - 4 reported: 2 tickets promised twice
    # SQL holds check out while Redis (and so the local queue) is down: the outbox has them.
    orders = [(await rt.checkout.checkout(b, h.id, "tok_visa")).order_id for b, h in sql_holds]
    with rt.ledger.engine.begin() as c:
        waiting = c.execute(sa.select(sa.func.count()).select_from(payment_outbox).where(
            payment_outbox.c.published_at.is_(None))).scalar_one()
    assert waiting == 6
    own_redis.start()
    await redis_back(rt)
    for b, h in zip(buyers[:6], redis_holds, strict=True):
        orders.append((await rt.checkout.checkout(b, h.id, "tok_visa")).order_id)
    await rt.reconciler.run_once(rt.clock())  # relays the outbox
    await drain(rt)
    await rt.reconciler.run_once(rt.clock())
    finals = [await rt.ledger.get_order(o) for o in orders if o]
    assert len(finals) == 12 and all(f is not None for f in finals)
    confirmed = [f for f in finals if f and f.status == OrderStatus.CONFIRMED]
    failed = [f for f in finals if f and f.status == OrderStatus.FAILED]
    assert len(confirmed) == 10 and len(failed) == 2
    assert all(f.reason == "sold_out" for f in failed)
    assert {f.id for f in failed} <= refunded_orders(rt)
    gateway = rt.gateway
    assert isinstance(gateway, SimulatedGateway)
    for f in failed:
        charge = await gateway.find_charge(f.id)
        assert charge is not None and charge.refunded
    lines = await rt.ledger.inventory(event.id)
    assert lines[0].sold == 10 and lines[0].held_sql == 0
    await assert_invariant(rt, event.id)


async def test_redis_back_empty_is_rebuilt_from_both_stores(
        drt: Runtime, own_redis: RedisServer) -> None:
    rt = drt
    event = await make_event(rt, {"GA": 8, "VIP": 3}, per_user_limit=8)
    ga, vip = type_id(event, "GA"), type_id(event, "VIP")
    buyer = (await make_buyer(rt))[1]
    other = (await make_buyer(rt))[1]
    await hold(rt, buyer, event.id, ga, 2)  # lost with Redis's data
    await rt.reconciler.run_once(rt.clock())
    own_redis.kill()
    h1 = await rt.holds.create(other, event.id, [LineItem(ga, 3), LineItem(vip, 1)])
    paid = await rt.checkout.checkout(other, h1.id, "tok_visa")
    assert paid.order_id and ids.is_degraded_id(paid.order_id)
    pending = await rt.orders.get(other, paid.order_id)
    assert pending.status == OrderStatus.PENDING
    shutil.rmtree(own_redis.data_dir)  # Redis comes back with nothing
    own_redis.start()
    await redis_back(rt)
    # Rebuilt: capacity - sold - SQL held (the lost Redis hold is gone with its data).
    assert await rt.store.availability(event.id) == {ga: 5, vip: 2}
    await assert_invariant(rt, event.id)
    await rt.reconciler.run_once(rt.clock())  # relays the payment message to the new stream
    await drain(rt)
    order = await rt.orders.get(other, paid.order_id)
    assert order.status == OrderStatus.CONFIRMED and len(order.tickets) == 4
    assert await rt.store.availability(event.id) == {ga: 5, vip: 2}
    await assert_invariant(rt, event.id)


async def test_degraded_hold_expires_and_returns_its_tickets(
        drt: Runtime, own_redis: RedisServer, clock: Clock) -> None:
    rt = drt
    event = await make_event(rt, {"GA": 4})
    ga = type_id(event, "GA")
    buyer = (await make_buyer(rt))[1]
    await rt.reconciler.run_once(rt.clock())
    own_redis.kill()
    h = await hold(rt, buyer, event.id, ga, 3)
    assert (await rt.holds.get(buyer, h.id)).status == "held"
    assert (await rt.inventory.availability(event.id)) == {ga: 1}
    clock.advance(rt.settings.hold_seconds + 1)
    report = await rt.reconciler.run_once(rt.clock())  # Redis still down: the SQL side runs
    assert report.sql_released == 1
    assert (await rt.inventory.availability(event.id)) == {ga: 4}
    own_redis.start()
    await redis_back(rt)
    assert await rt.store.availability(event.id) == {ga: 4}
    await assert_invariant(rt, event.id)


async def test_degraded_holds_keep_the_per_user_limit_and_uncapped_promo_codes(
        drt: Runtime, own_redis: RedisServer) -> None:
    rt = drt
    event = await make_event(rt, {"GA": 10}, per_user_limit=3, price=2000)
    ga = type_id(event, "GA")
    _, admin = await make_buyer(rt, role="admin")
    await rt.catalog.put_offer(event.id, Offer("HALF", "percent", 50), admin)
    await rt.catalog.put_offer(event.id, Offer("FIRST5", "amount", 500, max_uses=5), admin)
    _, buyer = await make_buyer(rt)
    await rt.reconciler.run_once(rt.clock())
    own_redis.kill()
    first = await rt.holds.create(buyer, event.id, [LineItem(ga, 2)], promo_code="half")
    assert (first.total, first.discount) == (2000, 2000)
    with pytest.raises(PerUserLimit):
        await rt.holds.create(buyer, event.id, [LineItem(ga, 2)])
    with pytest.raises(DependencyUnavailable) as capped:
        await rt.holds.create(buyer, event.id, [LineItem(ga, 1)], promo_code="FIRST5")
    assert capped.value.field == "promo_code"
    with pytest.raises(InvalidInput):
        await rt.holds.create(buyer, event.id, [LineItem(ga, 1)], promo_code="NOPE")
    paid = await rt.checkout.checkout(buyer, first.id, "tok_visa")
    own_redis.start()
    await redis_back(rt)
    await rt.reconciler.run_once(rt.clock())
    await drain(rt)
    assert paid.order_id
    order = await rt.orders.get(buyer, paid.order_id)
    assert (order.status, order.total) == (OrderStatus.CONFIRMED, 2000)
    with pytest.raises(PerUserLimit):  # 2 bought + 2 more > 3, now counted by Redis
        await rt.holds.create(buyer, event.id, [LineItem(ga, 2)])
    await assert_invariant(rt, event.id)


async def test_order_reads_while_redis_is_down(drt: Runtime, own_redis: RedisServer) -> None:
    """The order page asks Redis first (a pending order is a hold in checkout); with Redis
    down a decided order still reads from the ledger, and a pending one answers that Redis
    is unavailable (503), never "not found"."""
    rt = drt
    event = await make_event(rt, {"GA": 5})
    buyer = (await make_buyer(rt))[1]
    decided = await rt.checkout.checkout(buyer, (await hold(rt, buyer, event.id,
                                                            type_id(event, "GA"))).id, "tok_visa")
    await drain(rt)
    pending = await rt.checkout.checkout(buyer, (await hold(rt, buyer, event.id,
                                                            type_id(event, "GA"))).id, "tok_visa")
    assert decided.order_id and pending.order_id
    assert (await rt.orders.get(buyer, pending.order_id)).status == OrderStatus.PENDING
    own_redis.kill()
    assert (await rt.orders.get(buyer, decided.order_id)).status == OrderStatus.CONFIRMED
    with pytest.raises(RedisUnavailable):
        await rt.orders.get(buyer, pending.order_id)
    own_redis.start()
    await redis_back(rt)
    await drain(rt)
    assert (await rt.orders.get(buyer, pending.order_id)).status == OrderStatus.CONFIRMED
    await assert_invariant(rt, event.id)
