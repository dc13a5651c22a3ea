"""Reads never queue behind writers: on SQLite (WAL) a read-only transaction begins DEFERRED
and reads its snapshot while another connection holds the write lock. Before, every read
began IMMEDIATE, so a buyer's order page waited for the finalizer's batch to commit."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from shared.adapters.sql_reads import reading
from shared.adapters.sql_schema import orders
from shared.models import LineItem
from shared.runtime import Runtime
from tests.support import assert_invariant, make_buyer, make_event, type_id


async def test_a_read_goes_ahead_while_a_writer_holds_the_lock(rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 5})
    _, user = await make_buyer(rt)
    hold = await rt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), 1)])
    writer = rt.ledger.engine.connect()
    try:
        writer.begin()  # BEGIN IMMEDIATE: the write lock, held until rollback below
        writer.execute(sa.delete(orders))  # a write in flight, never committed
        # Each read would wait out the 30 s busy timeout (and fail) if it needed the lock.
        assert await asyncio.wait_for(rt.ledger.get_order("no-such-order"), 10) is None
        assert await asyncio.wait_for(rt.ledger.orders_of_user(user.user_id, 10), 10) == []
        assert (await asyncio.wait_for(rt.ledger.inventory(event.id), 10))[0].capacity == 5
        with reading(rt.ledger.engine) as c:
            assert c.execute(sa.select(sa.func.count()).select_from(orders)).scalar_one() == 0
    finally:
        writer.rollback()
        writer.close()
    await rt.holds.release(user, hold.id)
    await assert_invariant(rt, event.id)
