"""The order long poll (``GET /api/orders/{id}?wait=``): finalize's notice wakes the waiting
buyer, a lost notice costs only a re-check, and the wait is bounded. Real Redis Pub/Sub,
real SQLite, real HTTP. Every test ends with the inventory invariant."""

from __future__ import annotations

import asyncio

import pytest
import redis

from shared.adapters.redis_order_notices import CHANNEL, RedisOrderNotices
from shared.errors import NotFound
from shared.models import Hold, LineItem, OrderPage, OrderStatus, PaymentRequest, Principal
from shared.runtime import Runtime
from shared.services.order_waits import OrderWaits
from tests.support import Live, assert_invariant, make_buyer, make_event, type_id, wait_until

PROBLEM = "application/problem+json"


async def _subscribed(rt: Runtime, before: int) -> bool:
    with redis.Redis.from_url(rt.settings.redis_url) as client:
        return int(dict(client.pubsub_numsub(CHANNEL))[CHANNEL.encode()]) > before


def _subscribers(rt: Runtime) -> int:
    with redis.Redis.from_url(rt.settings.redis_url) as client:
        return int(dict(client.pubsub_numsub(CHANNEL))[CHANNEL.encode()])


async def _pending(rt: Runtime, quantity: int) -> tuple[Principal, Hold, str]:
    """A buyer's order waiting for its payment (checked out, not yet finalized)."""
    event = await make_event(rt, {"GA": 5})
    _, user = await make_buyer(rt)
    hold = await rt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), quantity)])
    hold = await rt.checkout.checkout(user, hold.id, "tok_visa")
    assert hold.order_id
    return user, hold, hold.order_id


def _message(hold: Hold, user: Principal) -> PaymentRequest:
    assert hold.order_id
    return PaymentRequest(
        order_id=hold.order_id, hold_id=hold.id, event_id=hold.event_id, user_id=user.user_id,
        items=hold.items, amount=hold.total, currency=hold.currency, payment_token="tok_visa")


async def test_the_finalizer_notice_wakes_the_waiting_buyer(rt: Runtime) -> None:
    user, hold, order_id = await _pending(rt, 2)
    # No re-check within the test's time: only the notice can end the wait early, so a
    # confirmed answer proves the notice path (a missing notice answers "pending").
    waits = OrderWaits(recheck=3600)
    before = _subscribers(rt)
    listener = asyncio.create_task(RedisOrderNotices(rt.redis).listen(waits.notify))
    try:
        await wait_until(lambda: _subscribed(rt, before), "the notice listener subscribed")
        reads: list[bool] = []

        async def load(noticed: bool) -> OrderPage:
            reads.append(noticed)
            return await rt.orders.page(user, order_id, noticed=noticed)

        waiting = asyncio.create_task(waits.until_final(order_id, load, 20))

        async def registered() -> bool:
            return waits.waiting == 1

        await wait_until(registered, "the buyer waits on the pending order")
        assert not waiting.done()
        await rt.finalizer.handle(_message(hold, user))
        page = await waiting
        assert page.status == OrderStatus.CONFIRMED and len(page.order.tickets) == 2
        assert reads == [False, True]  # the read after the notice went to the ledger first
        assert waits.waiting == 0  # nothing left registered
        _, other = await make_buyer(rt)
        with pytest.raises(NotFound):  # the ledger-first read keeps orders to their buyers
            await rt.orders.page(other, order_id, noticed=True)
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    await assert_invariant(rt, hold.event_id)


async def test_a_lost_notice_costs_one_recheck(rt: Runtime) -> None:
    user, hold, order_id = await _pending(rt, 1)
    waits = OrderWaits(recheck=0.05)  # nobody listens: only re-reading the ledger can tell
    waiting = asyncio.create_task(
        waits.until_final(order_id, lambda _: rt.orders.get(user, order_id), 20))

    async def registered() -> bool:
        return waits.waiting == 1

    await wait_until(registered, "the buyer waits on the pending order")
    await rt.finalizer.handle(_message(hold, user))
    assert (await waiting).status == OrderStatus.CONFIRMED
    await assert_invariant(rt, hold.event_id)


async def test_the_wait_ends_pending_when_nothing_happens(rt: Runtime) -> None:
    user, hold, order_id = await _pending(rt, 1)
    waits = OrderWaits(recheck=0.05)
    order = await waits.until_final(order_id, lambda _: rt.orders.get(user, order_id), 0.2)
    assert order.status == OrderStatus.PENDING
    assert waits.waiting == 0
    await assert_invariant(rt, hold.event_id)


async def test_long_poll_over_http(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 5})
    token, _ = await make_buyer(rt)
    async with live.client(token) as client:
        hold = await client.post(f"/api/events/{event.id}/holds", json={
            "items": [{"ticket_type_id": type_id(event, "GA"), "quantity": 2}]})
        assert hold.status_code == 201, hold.text
        pay = await client.post(f"/api/holds/{hold.json()['hold_id']}/checkout",
                                json={"payment_token": "tok_visa"})
        assert pay.status_code == 202
        order_id = pay.json()["order_id"]
        # Bad waits are refused, naming the parameter, before anything is read.
        for bad in ("-1", "26", "soon"):
            r = await client.get(f"/api/orders/{order_id}?wait={bad}")
            assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
            assert "wait" in r.text
        body = (await client.get(f"/api/orders/{order_id}?wait=25")).json()
        while body["status"] == "pending":  # a wait may end early on a very busy machine
            body = (await client.get(f"/api/orders/{order_id}?wait=25")).json()
        assert body["status"] == "confirmed" and len(body["tickets"]) == 2
        # Someone else's order stays a 404, waiting or not.
        other, _ = await make_buyer(rt)
        async with live.client(other) as theirs:
            assert (await theirs.get(f"/api/orders/{order_id}?wait=1")).status_code == 404
    await assert_invariant(rt, event.id)
