"""The key layout works on a clustered Redis (Azure Managed Redis is clustered): three real
``redis-server --cluster-enabled yes`` shards joined by ``redis-cli --cluster create``. The
cluster refuses a script whose keys span slots (CROSSSLOT), so the purchase path passing here
proves every script stays inside its event's hash slot."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis, RedisCluster
from redis.exceptions import ResponseError

from shared.adapters.redis_stream_bus import StreamConsumer
from shared.local.ports import free_port
from shared.local.redis_server import RedisServer
from shared.models import LineItem, OrderStatus, PaymentRequest
from shared.runtime import Runtime, build_runtime
from shared.settings import Settings
from tests.support import WAIT_SECONDS, assert_invariant, make_buyer, make_event, type_id


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("redis-cli") is None:
        pytest.fail("redis-cli is required (Debian package redis-tools, with redis-server)")
    nodes = [RedisServer(tmp_path_factory.mktemp(f"shard{i}"), appendonly=False,
                         port=free_port(below=55536),
                         extra_args=("--cluster-enabled", "yes", "--cluster-config-file",
                                     # A node silent this long counts as failing; a busy
                                     # machine can starve one for a couple of seconds.
                                     "nodes.conf", "--cluster-node-timeout", "15000"))
             for i in range(3)]
    try:
        for node in nodes:
            node.start()
        subprocess.run(
            ["redis-cli", "--cluster", "create",
             *[f"127.0.0.1:{n.port}" for n in nodes], "--cluster-replicas", "0",
             "--cluster-yes"], check=True, capture_output=True, timeout=60)
        # Every node must see the whole slot map: one still converging answers CLUSTERDOWN.
        deadline = time.monotonic() + WAIT_SECONDS
        while not all(b"cluster_state:ok" in subprocess.run(
                ["redis-cli", "-p", str(node.port), "cluster", "info"],
                capture_output=True, check=True).stdout for node in nodes):
            assert time.monotonic() < deadline, "cluster did not converge"
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{nodes[0].port}/0"
    finally:
        for node in nodes:
            node.stop()


@pytest.fixture
async def crt(settings: Settings, cluster: str) -> AsyncIterator[Runtime]:
    runtime = build_runtime(settings.with_(redis_url=cluster, redis_cluster=True))
    assert isinstance(runtime.redis, RedisCluster)
    await runtime.redis.flushall()
    await runtime.migrate()
    yield runtime
    await runtime.close()


async def test_cluster_refuses_cross_slot_scripts(cluster: str) -> None:
    node = Redis.from_url(cluster)  # a plain client: the server itself must refuse
    try:
        # The server's CROSSSLOT error; redis-py keeps only its message.
        with pytest.raises(ResponseError, match="don't hash to the same slot"):
            await node.eval("return redis.call('MGET', KEYS[1], KEYS[2])", 2,
                            "inv:{event-a}", "inv:{event-b}")
    finally:
        await node.aclose()


async def test_purchase_path_runs_on_a_three_shard_cluster(crt: Runtime) -> None:
    events = [await make_event(crt, {"GA": 5}, name=f"Shard test {i}") for i in range(6)]
    assert isinstance(crt.redis, RedisCluster)
    slots = {crt.redis.keyslot("{" + e.id + "}") for e in events}
    assert len(slots) > 1  # the events really live on different slots
    _, user = await make_buyer(crt)
    consumer = StreamConsumer(crt.redis, crt.stream_names, crt.finalizer.handle_batch,
                              consumer="c", block_ms=50)
    await consumer.ensure_group()
    for event in events:
        hold = await crt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), 1)])
        hold = await crt.checkout.checkout(user, hold.id, "tok_visa")
        assert hold.order_id
        handled = 0
        while handled == 0:
            handled = await consumer.run_once(block=False)
        order = await crt.ledger.get_order(hold.order_id)
        assert order is not None and order.status == OrderStatus.CONFIRMED
        released = await crt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), 1)])
        await crt.holds.release(user, released.id)
        await crt.reconciler.run_once(crt.clock())
        await assert_invariant(crt, event.id)
    # Dead-lettering moves a message between two keys of the {payments} slot.
    dead = PaymentRequest(order_id=f"{events[0].id}.{'0' * 32}", hold_id=f"{events[0].id}.x",
                          event_id=events[0].id, user_id=user.user_id, items=(), amount=0,
                          currency="EUR", payment_token="tok_processingError")
    await crt.bus.publish(dead)
    await crt.bus.publish(dead)  # deduplicated on the order id
    assert await crt.redis.xlen(crt.stream_names.stream) == len(events) + 1


async def test_waiting_list_runs_on_a_three_shard_cluster(crt: Runtime) -> None:
    """Join, the gate in hold.lua, the offer step and its email notes: all on the event's
    slot (issue 16), whichever shard that is."""
    events = [await make_event(crt, {"GA": 1}, name=f"Waitlist shard {i}") for i in range(4)]
    (_, first), (_, waiter) = await make_buyer(crt), await make_buyer(crt)
    for event in events:
        ga = type_id(event, "GA")
        hold = await crt.holds.create(first, event.id, [LineItem(ga, 1)])
        entry, _ = await crt.waitlist.join(waiter, event.id, ga, 1)
        assert entry.place == 1
        await crt.holds.release(first, hold.id)
        (offered,) = (await crt.waitlist.view(waiter, event.id)).entries
        assert offered.status == "offered" and offered.hold_id
        await assert_invariant(crt, event.id)
