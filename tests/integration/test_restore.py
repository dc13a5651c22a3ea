"""The restore drill: Redis loses its data in the middle of a sale and ``python -m
shared.restore`` rebuilds it from the ledger, the catalog store, the payments queue (when the
queue survived, as Service Bus does in Azure) and the processor's charges.

Real redis-servers, real SQLite, the real local stack over HTTP. Every test ends with the
inventory invariant.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from shared.adapters.redis_keys import INV, event_keys
from shared.adapters.redis_stream_bus import RedisStreamBus, StreamConsumer
from shared.adapters.simulated_gateway import SimulatedGateway
from shared.local.redis_server import RedisServer
from shared.models import Event, LineItem, OrderStatus, Principal
from shared.runtime import Runtime
from shared.services.checkout import CheckoutService
from shared.services.restore import RestoreService
from shared.settings import Settings
from tests.support import Live, assert_invariant, make_buyer, make_event, type_id, wait_until

ROOT = Path(__file__).resolve().parents[2]


def gateway(rt: Runtime) -> SimulatedGateway:
    assert isinstance(rt.gateway, SimulatedGateway)
    return rt.gateway


async def buy_over_http(client: httpx.AsyncClient, event: Event,
                        items: dict[str, int], token: str) -> str:
    hold = await client.post(f"/api/events/{event.id}/holds", json={"items": [
        {"ticket_type_id": type_id(event, name), "quantity": q} for name, q in items.items()]})
    assert hold.status_code == 201, hold.text
    pay = await client.post(f"/api/holds/{hold.json()['hold_id']}/checkout",
                            json={"payment_token": token})
    assert pay.status_code == 202, pay.text
    order_id: str = pay.json()["order_id"]
    return order_id


async def final_status(client: httpx.AsyncClient, order_id: str) -> dict[str, object]:
    body: dict[str, object] = {}

    async def final() -> bool:
        nonlocal body
        body = (await client.get(f"/api/orders/{order_id}")).json()
        return body["status"] != "pending"

    await wait_until(final, "final")
    return body


async def checkout_in_process(rt: Runtime, checkout: CheckoutService, event: Event,
                              user: Principal, items: dict[str, int]) -> tuple[str, str]:
    hold = await rt.holds.create(user, event.id, [LineItem(type_id(event, n), q)
                                                  for n, q in items.items()])
    hold = await checkout.checkout(user, hold.id, "tok_visa")
    assert hold.order_id
    return hold.id, hold.order_id


async def run_restore_command(settings: Settings) -> str:
    env = {**os.environ, "REDIS_URL": settings.redis_url,
           "LEAP_DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shared.restore", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


@dataclass
class Sale:
    """The drill's buyers (bearer tokens) and their orders and hold."""

    event: Event
    paid: tuple[str, str] = ("", "")
    declined: tuple[str, str] = ("", "")
    charged: tuple[str, str] = ("", "")  # queued; a finalizer charged, then died
    queued: tuple[str, str] = ("", "")  # queued, not charged
    held: tuple[str, str] = ("", "")  # a hold, no checkout


async def sell_until_the_loss(rt: Runtime, settings: Settings, event: Event) -> Sale:
    sale = Sale(event)
    paid_token, _ = await make_buyer(rt)
    declined_token, _ = await make_buyer(rt)
    live = Live(settings).start()
    try:
        async with live.client(paid_token) as client:
            order = await buy_over_http(client, event, {"GA": 2, "VIP": 1}, "tok_visa")
            assert (await final_status(client, order))["status"] == "confirmed"
            sale.paid = (paid_token, order)
        async with live.client(declined_token) as client:
            order = await buy_over_http(client, event, {"GA": 2}, "tok_chargeDeclined")
            assert (await final_status(client, order))["status"] == "failed"
            sale.declined = (declined_token, order)
    finally:
        live.stop()  # the payment consumers stop: the next checkouts stay queued

    # The sale goes on: two checkouts wait in the queue, one of them already charged by a
    # finalizer that died before writing the order; another buyer holds tickets.
    charged_token, charged = await make_buyer(rt)
    queued_token, queued = await make_buyer(rt)
    holder_token, holder = await make_buyer(rt)
    _, order = await checkout_in_process(rt, rt.checkout, event, charged, {"GA": 3})
    await rt.gateway.charge(amount=3000, currency="EUR", token="tok_visa",
                            idempotency_key=order)
    sale.charged = (charged_token, order)
    _, order = await checkout_in_process(rt, rt.checkout, event, queued, {"VIP": 1})
    sale.queued = (queued_token, order)
    held = await rt.holds.create(holder, event.id, [LineItem(type_id(event, "GA"), 2)])
    sale.held = (holder_token, held.id)
    await assert_invariant(rt, event.id)
    assert gateway(rt).stats() == {"charged": 2, "refunded": 0}
    return sale


async def check_over_http(rt: Runtime, live: Live, sale: Sale) -> None:
    event = sale.event
    ga, vip = type_id(event, "GA"), type_id(event, "VIP")
    async with live.client(sale.paid[0]) as client:
        order = (await client.get(f"/api/orders/{sale.paid[1]}")).json()
        assert order["status"] == "confirmed" and len(order["tickets"]) == 3
        mine = (await client.get("/api/me/orders")).json()["items"]
        assert [o["order_id"] for o in mine] == [sale.paid[1]]
        avail = (await client.get(f"/api/events/{event.id}/availability")).json()
        assert {t["id"]: t["available"] for t in avail["ticket_types"]} == {ga: 8, vip: 3}
    async with live.client(sale.declined[0]) as client:
        order = (await client.get(f"/api/orders/{sale.declined[1]}")).json()
        assert (order["status"], order["reason"]) == ("failed", "payment_declined")
    # The checkouts queued in the lost stream are gone: no order, no money kept.
    for token, order_id in (sale.charged, sale.queued):
        async with live.client(token) as client:
            assert (await client.get(f"/api/orders/{order_id}")).status_code == 404
    async with live.client(sale.held[0]) as client:
        assert (await client.get(f"/api/holds/{sale.held[1]}")).status_code == 404
    # The sale goes on with exactly what is left.
    for rest in ({"GA": 8}, {"VIP": 3}):
        token, _ = await make_buyer(rt)
        async with live.client(token) as client:
            last = await buy_over_http(client, event, rest, "tok_visa")
            assert (await final_status(client, last))["status"] == "confirmed"
    async with live.client() as client:
        avail = (await client.get(f"/api/events/{event.id}/availability")).json()
        assert {t["id"]: t["available"] for t in avail["ticket_types"]} == {ga: 0, vip: 0}


async def test_local_drill_redis_lost_mid_sale(rt: Runtime, settings: Settings) -> None:
    """Locally the payments queue is a Redis stream, so it is lost with Redis: paid orders
    stay paid, a charge made for a lost checkout is refunded, availability is exact."""
    event = await make_event(rt, {"GA": 10, "VIP": 4})
    sale = await sell_until_the_loss(rt, settings, event)

    await rt.redis.flushall()  # Redis loses everything: inventory, holds, queue, caches

    report = await run_restore_command(settings)
    assert "inventory: 1 of 1 events rebuilt from the ledger" in report
    assert "payments queue: lost with Redis" in report
    assert "charges without an order: 1 refunded" in report
    assert "catalog cache: dropped; 1 events warmed from the store" in report
    assert await rt.redis.exists(f"cat:event:{event.id}") == 1

    ga, vip = type_id(event, "GA"), type_id(event, "VIP")
    sold = {line.ticket_type_id: line.sold for line in await rt.ledger.inventory(event.id)}
    assert sold == {ga: 2, vip: 1}
    # Paid once; the lost checkout's charge refunded; the other lost checkout never charged.
    assert gateway(rt).stats() == {"charged": 2, "refunded": 1}
    charge = await rt.gateway.find_charge(sale.charged[1])
    assert charge is not None and charge.refunded
    assert await rt.gateway.find_charge(sale.queued[1]) is None
    await assert_invariant(rt, event.id)

    live = Live(settings).start()
    try:
        await check_over_http(rt, live, sale)
    finally:
        live.stop()
    sold = {line.ticket_type_id: line.sold for line in await rt.ledger.inventory(event.id)}
    assert sold == {ga: 10, vip: 4}
    await assert_invariant(rt, event.id)


@pytest.fixture
async def queue_redis(tmp_path: Path) -> AsyncIterator[Redis]:
    """A second redis-server holding only the payments queue: it plays Service Bus, which
    keeps its messages when the Redis of the inventory loses its data."""
    server = RedisServer(tmp_path / "queue-redis", appendonly=False)
    server.start()
    client = Redis.from_url(server.url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()
        server.stop()


async def test_queued_checkouts_resume_when_the_queue_survived(
        rt: Runtime, queue_redis: Redis) -> None:
    """As in Azure: the queue outlives Redis. A queued checkout gets its hold back and is
    paid once; one whose tickets were taken meanwhile fails, and nothing is oversold."""
    bus = RedisStreamBus(queue_redis, rt.settings.payments_queue)
    checkout = CheckoutService(rt.store, bus, rt.outbox, rt.settings, rt.clock)
    event = await make_event(rt, {"GA": 6})
    ga = type_id(event, "GA")
    _, first = await make_buyer(rt)
    _, second = await make_buyer(rt)
    _, holder = await make_buyer(rt)
    _, first_order = await checkout_in_process(rt, checkout, event, first, {"GA": 3})
    await rt.gateway.charge(amount=3000, currency="EUR", token="tok_visa",
                            idempotency_key=first_order)  # the finalizer died after this
    _, second_order = await checkout_in_process(rt, checkout, event, second, {"GA": 2})
    await rt.holds.create(holder, event.id, [LineItem(ga, 1)])

    await rt.redis.flushall()
    # The API kept serving before the restore ran: a new buyer takes 2 of the 6 tickets
    # the ledger says are unsold, so only one of the two queued checkouts still fits.
    _, early = await make_buyer(rt)
    await rt.holds.create(early, event.id, [LineItem(ga, 2)])

    service = RestoreService(rt.store, rt.ledger, rt.inventory, rt.finalizer, bus,
                             rt.gateway, gateway(rt), rt.catalog_store, rt.settings, rt.clock)
    report = await service.run()
    assert (report.queue_lost, report.queued, report.loaded) == (False, 2, 0)
    assert report.resumed == [first_order]
    assert report.failed == {second_order: "sold_out"}
    assert report.refunded_orphans == []  # the first checkout's charge is adopted, not refunded
    pending = await rt.orders.get(first, first_order)
    assert (pending.status, pending.total) == (OrderStatus.PENDING, 3000)
    failed = await rt.orders.get(second, second_order)
    assert (failed.status, failed.reason) == (OrderStatus.FAILED, "sold_out")
    assert await rt.store.availability(event.id) == {ga: 1}
    await assert_invariant(rt, event.id)

    # The finalizer picks the queue up again: the resumed checkout is paid exactly once.
    consumer = StreamConsumer(queue_redis, bus.names, rt.finalizer.handle_batch, consumer="drill",
                              redelivery_ms=rt.settings.redelivery_ms)
    await consumer.ensure_group()

    async def settled() -> bool:
        await consumer.run_once(block=False)
        order = await rt.ledger.get_order(first_order)
        return order is not None and order.status == OrderStatus.CONFIRMED

    await wait_until(settled, "settled")
    confirmed = await rt.orders.get(first, first_order)
    assert len(confirmed.tickets) == 3
    assert gateway(rt).stats() == {"charged": 1, "refunded": 0}
    assert (await rt.ledger.inventory(event.id))[0].sold == 3
    assert await rt.store.availability(event.id) == {ga: 1}
    await assert_invariant(rt, event.id)

    again = await service.run()  # idempotent: a second run finds nothing to do
    assert (again.resumed, again.failed, again.already_settled) == ([], {}, 2)
    assert gateway(rt).stats() == {"charged": 1, "refunded": 0}
    await assert_invariant(rt, event.id)


async def test_reload_rebuilds_availability_redis_still_has(
        rt: Runtime, queue_redis: Redis) -> None:
    """After a point-in-time restore of the ledger, Redis is ahead of it: ``--reload`` makes
    availability follow the ledger again, keeping the holds Redis still has."""
    bus = RedisStreamBus(queue_redis, rt.settings.payments_queue)
    checkout = CheckoutService(rt.store, bus, rt.outbox, rt.settings, rt.clock)
    event = await make_event(rt, {"GA": 6})
    ga = type_id(event, "GA")
    _, buyer = await make_buyer(rt)
    _, holder = await make_buyer(rt)
    hold_id, order_id = await checkout_in_process(rt, checkout, event, buyer, {"GA": 2})
    request = (await bus.queued() or [])[0]
    assert (await rt.finalizer.handle(request)).status == OrderStatus.CONFIRMED
    held = await rt.holds.create(holder, event.id, [LineItem(ga, 1)])
    # Redis disagrees with the ledger (as after the ledger went back in time).
    await rt.redis.hset(event_keys(event.id)[INV], ga, 0)

    service = RestoreService(rt.store, rt.ledger, rt.inventory, rt.finalizer, bus,
                             rt.gateway, gateway(rt), rt.catalog_store, rt.settings, rt.clock)
    plain = await service.run()
    assert (plain.loaded, plain.already_settled) == (0, 1)
    assert await rt.store.availability(event.id) == {ga: 0}  # left alone: it was there

    reloaded = await service.run(reload=True)
    assert reloaded.loaded == 1
    assert await rt.store.availability(event.id) == {ga: 3}  # 6 - 2 sold - 1 held
    assert (await rt.holds.get(holder, held.id)).status == "held"
    assert (await rt.orders.get(buyer, order_id)).status == OrderStatus.CONFIRMED
    assert hold_id == request.hold_id
    await assert_invariant(rt, event.id)
