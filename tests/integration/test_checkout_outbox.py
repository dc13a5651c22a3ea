"""The checkout outbox against real Redis, the real stack over HTTP and a real ledger: a
checkout whose publish never happened (its server died after checkout.lua) is published by
the relay within seconds and paid once; the API's own publish takes the order out of the
outbox; entries of holds that left checkout are dropped. On the local stream (the queue in
the same Redis) the checkout script queues the payment message itself."""

from __future__ import annotations

import json
from typing import Any

from shared.adapters.redis_outbox import payment_request
from shared.adapters.simulated_gateway import SimulatedGateway
from shared.models import LineItem, OrderStatus, PaymentRequest, now_ms
from shared.runtime import Runtime
from tests.support import (
    Clock,
    Live,
    assert_invariant,
    make_buyer,
    make_event,
    type_id,
    wait_until,
)


async def test_a_checkout_whose_publish_never_happened_is_relayed_and_paid_once(
        rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 10})
    _, user = await make_buyer(rt)
    hold = await rt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), 2)])
    now = now_ms()
    # checkout.lua alone, as a server killed right after it would leave things.
    result = await rt.store.checkout(event.id, hold.id, user.user_id, f"{event.id}.dead1",
                                     now, now + 900_000, "tok_visa", {})
    assert result.ok
    assert await rt.outbox.pending(event.id) == 1

    async def confirmed() -> bool:
        # The ledger decides first and the hold in Redis follows a moment later: wait for
        # both (the live stack's relay and consumer do it).
        order = await rt.ledger.get_order(f"{event.id}.dead1")
        committed = await rt.store.get_hold(event.id, hold.id)
        return (order is not None and order.status == OrderStatus.CONFIRMED
                and committed is not None and committed.status == "committed")

    await wait_until(confirmed, "confirmed and committed")
    assert await rt.outbox.pending(event.id) == 0
    assert isinstance(rt.gateway, SimulatedGateway)
    assert rt.gateway.stats() == {"charged": 1, "refunded": 0}
    await assert_invariant(rt, event.id)


async def test_the_api_publish_empties_the_outbox_and_ended_holds_are_dropped(
        rt: Runtime, clock: Clock) -> None:
    event = await make_event(rt, {"GA": 10})
    _, user = await make_buyer(rt)
    ga = type_id(event, "GA")
    paid = await rt.holds.create(user, event.id, [LineItem(ga, 1)])
    await rt.checkout.checkout(user, paid.id, "tok_visa")
    assert await rt.outbox.pending(event.id) == 0  # published, so taken out

    lost = await rt.holds.create(user, event.id, [LineItem(ga, 1)])
    result = await rt.store.checkout(event.id, lost.id, user.user_id, f"{event.id}.lost1",
                                     clock(), clock() + 900_000, "tok_visa", {})
    assert result.ok
    # Not due yet: the checkout that wrote it may still be publishing.
    assert (await rt.outbox_relay.run_once(clock())).published == 0
    # The hold leaves checkout (here: released, as the reconciler would after its window).
    released = await rt.store.release(event.id, lost.id, None, clock(), "payment_timeout",
                                      allow_checkout=True)
    assert released.ok
    report = await rt.outbox_relay.run_once(clock.advance(5))
    assert report.published == 0 and await rt.outbox.pending(event.id) == 0
    record = await rt.redis.hget(f"holds:{{{event.id}}}", lost.id)
    assert record is not None and "tok_visa" not in record  # the token left with the hold
    await assert_invariant(rt, event.id)


async def test_on_the_local_stream_the_checkout_script_queues_the_payment_itself(
        rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 10}, price=2500)
    _, user = await make_buyer(rt)
    hold = await rt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), 2)])
    stream = rt.stream_names.stream
    before = await rt.redis.xlen(stream)
    done = await rt.checkout.checkout(user, hold.id, "tok_visa")
    assert done.order_id and await rt.outbox.pending(event.id) == 0  # nothing left to relay
    entries: Any = await rt.redis.xrange(stream)
    ((_, fields),) = entries[before:]
    message = PaymentRequest.from_json(fields["body"])
    # The message the script wrote is the one the relay would rebuild from the hold record.
    record = await rt.redis.hget(f"holds:{{{event.id}}}", hold.id)
    assert record is not None
    assert message == payment_request(event.id, json.loads(record))
    assert (fields["message_id"], message.order_id, message.amount) == (
        done.order_id, done.order_id, 5000)
    # A retry answers the same order, and any later publish of it is a duplicate.
    again = await rt.checkout.checkout(user, hold.id, "tok_visa")
    assert again.order_id == done.order_id
    await rt.bus.publish(message)
    assert await rt.redis.xlen(stream) == before + 1
    await assert_invariant(rt, event.id)
