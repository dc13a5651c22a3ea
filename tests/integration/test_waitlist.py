"""The waiting list (issue 16) against a real redis-server and SQLite, time moved by hand:
joining only once sold out, the gate that keeps returned tickets from refreshers while
people wait, first come first served per type (a head that does not fit blocks its type),
offers on expiry, release and capacity raise, unclaimed offers passing on, concurrent joins,
leaving, and exactly one offer email however often the notice step runs. Every test ends
with the inventory invariant (offers are holds, counted as held)."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from shared.adapters.sql_schema import waitlist_offer_emails
from shared.errors import InvalidInput, PerUserLimit, SoldOut, TicketsAvailable
from shared.models import LineItem, Principal, WaitlistEntry
from shared.ports import QueuedPayments
from shared.runtime import Runtime
from shared.services.waitlist import WaitlistService
from tests.support import Clock, assert_invariant, make_buyer, make_event, type_id


async def buyers(rt: Runtime, n: int) -> list[Principal]:
    return [(await make_buyer(rt))[1] for _ in range(n)]


async def entry(rt: Runtime, user: Principal, event_id: str) -> WaitlistEntry:
    (e,) = (await rt.waitlist.view(user, event_id)).entries
    return e


async def expire_holds(rt: Runtime, clock: Clock, seconds: int) -> None:
    """Move past ``seconds`` and run a reconciler pass (expire, then the offer step)."""
    await rt.reconciler.run_once(clock.advance(seconds + 1))


def offer_rows(rt: Runtime) -> list[str]:
    with rt.ledger.engine.begin() as c:
        return [r.entry_id for r in c.execute(sa.select(waitlist_offer_emails.c.entry_id))]


async def test_joining_is_refused_while_tickets_can_be_held(rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 2}, per_user_limit=4)
    ga = type_id(event, "GA")
    a, b = await buyers(rt, 2)
    with pytest.raises(TicketsAvailable) as refused:
        await rt.waitlist.join(b, event.id, ga, 1)
    assert refused.value.field == "ticket_type_id"
    with pytest.raises(InvalidInput) as unknown:
        await rt.waitlist.join(b, event.id, "no-such-type", 1)
    assert unknown.value.field == "ticket_type_id"
    assert (await rt.waitlist.view(b, event.id)).entries == []
    await rt.holds.create(a, event.id, [LineItem(ga, 2)])
    with pytest.raises(PerUserLimit):
        await rt.waitlist.join(b, event.id, ga, 5)
    joined, new = await rt.waitlist.join(b, event.id, ga, 2)
    assert new and (joined.status, joined.place, joined.quantity) == ("waiting", 1, 2)
    again, new = await rt.waitlist.join(b, event.id, ga, 1)  # idempotent: the same entry
    assert not new and again.id == joined.id and again.quantity == 2
    await assert_invariant(rt, event.id)


async def test_gate_and_strict_first_come_first_served_per_type(rt: Runtime) -> None:
    """B waits for 2; one ticket comes back: it waits for B (a refresher cannot take it, and
    C, behind B for 1, does not jump the line). The other type is not held up."""
    event = await make_event(rt, {"GA": 3, "VIP": 1}, per_user_limit=4)
    ga, vip = type_id(event, "GA"), type_id(event, "VIP")
    a, x, b, c, refresher, v1, v2 = await buyers(rt, 7)
    a_hold = await rt.holds.create(a, event.id, [LineItem(ga, 2)])
    x_hold = await rt.holds.create(x, event.id, [LineItem(ga, 1)])
    v_hold = await rt.holds.create(v1, event.id, [LineItem(vip, 1)])
    await rt.waitlist.join(b, event.id, ga, 2)
    await rt.waitlist.join(c, event.id, ga, 1)
    await rt.waitlist.join(v2, event.id, vip, 1)
    await rt.holds.release(x, x_hold.id)  # one GA back: B's head needs 2, so it blocks GA
    assert await rt.store.availability(event.id) == {ga: 1, vip: 0}
    with pytest.raises(SoldOut):
        await rt.holds.create(refresher, event.id, [LineItem(ga, 1)])
    assert (await entry(rt, b, event.id)).place == 1
    assert ((await entry(rt, c, event.id)).status, (await entry(rt, c, event.id)).place) == (
        "waiting", 2)
    await rt.holds.release(v1, v_hold.id)  # VIP is served although GA's head is blocked
    assert (await entry(rt, v2, event.id)).status == "offered"
    await rt.holds.release(a, a_hold.id)  # three GA: B gets 2, then C gets 1
    b_entry, c_entry = await entry(rt, b, event.id), await entry(rt, c, event.id)
    assert (b_entry.status, c_entry.status) == ("offered", "offered")
    assert await rt.store.availability(event.id) == {ga: 0, vip: 0}
    b_hold = await rt.holds.get(b, str(b_entry.hold_id))
    assert [(i.ticket_type_id, i.quantity) for i in b_hold.items] == [(ga, 2)]
    assert b_hold.expires_at == b_entry.offer_expires_at
    await assert_invariant(rt, event.id)


async def test_offer_on_expiry_in_order_and_unclaimed_offers_pass_on(rt: Runtime,
                                                                     clock: Clock) -> None:
    event = await make_event(rt, {"GA": 1})
    ga = type_id(event, "GA")
    a, b, c, d = await buyers(rt, 4)
    await rt.holds.create(a, event.id, [LineItem(ga, 1)])
    for n, user in enumerate((b, c, d), 1):
        joined, _ = await rt.waitlist.join(user, event.id, ga, 1)
        assert joined.place == n
    await expire_holds(rt, clock, rt.settings.hold_seconds)
    offered = await entry(rt, b, event.id)
    assert offered.status == "offered" and offered.hold_id
    assert offered.offer_expires_at == clock.now + rt.settings.waitlist_offer_seconds * 1000
    assert [(await entry(rt, u, event.id)).place for u in (c, d)] == [1, 2]
    assert offer_rows(rt) == [offered.id]  # its email is in the outbox
    await assert_invariant(rt, event.id)
    await expire_holds(rt, clock, rt.settings.waitlist_offer_seconds)  # B never claims it
    assert (await entry(rt, b, event.id)).status == "expired"
    assert (await entry(rt, c, event.id)).status == "offered"
    assert (await entry(rt, d, event.id)).place == 1
    # C declines: D is offered at once, and B may join again (a new entry, at the back).
    c_entry = await entry(rt, c, event.id)
    left = await rt.waitlist.leave(c, event.id, c_entry.id)
    assert left.status == "declined"
    assert (await entry(rt, d, event.id)).status == "offered"
    assert len(offer_rows(rt)) == 3
    await assert_invariant(rt, event.id)


async def test_capacity_raise_offers_the_new_tickets_to_the_line(rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 2})
    ga = type_id(event, "GA")
    a, b, c = await buyers(rt, 3)
    await rt.holds.create(a, event.id, [LineItem(ga, 2)])
    await rt.waitlist.join(b, event.id, ga, 1)
    await rt.waitlist.join(c, event.id, ga, 2)
    async with rt.inventory.capacity_changes(event.id):
        await rt.inventory.change_capacity(event.id, ga, 4)
    assert (await entry(rt, b, event.id)).status == "offered"
    assert (await entry(rt, c, event.id)).place == 1  # needs 2, one is left: still waiting
    assert await rt.store.availability(event.id) == {ga: 1}
    await assert_invariant(rt, event.id)


async def test_concurrent_joins_get_distinct_consecutive_places(rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 1})
    ga = type_id(event, "GA")
    first, *rest = await buyers(rt, 31)
    await rt.holds.create(first, event.id, [LineItem(ga, 1)])
    joined = await asyncio.gather(*(rt.waitlist.join(u, event.id, ga, 1) for u in rest))
    assert sorted(e.place or 0 for e, _ in joined) == list(range(1, 31))
    assert (await rt.waitlist.view(first, event.id)).waiting == {ga: 30}
    # Leaving moves everyone behind up by one; those ahead keep their place.
    by_place = {e.place: (u, e) for u, (e, _) in zip(rest, joined, strict=True)}
    leaver, gone = by_place[10]
    assert (await rt.waitlist.leave(leaver, event.id, gone.id)).status == "left"
    for place in (1, 9, 11, 30):
        user, _ = by_place[place]
        assert (await entry(rt, user, event.id)).place == (place if place < 10 else place - 1)
    assert (await rt.waitlist.view(first, event.id)).waiting == {ga: 29}
    await assert_invariant(rt, event.id)


async def test_offer_email_is_enqueued_once_however_often_the_notice_step_runs(
        rt: Runtime, clock: Clock) -> None:
    """A crash between the offer and its email: the offer step ran in Redis but the process
    died before the outbox insert. Every later offer step (concurrent ones too) and the
    reconciler find the note; the outbox gets the email exactly once."""
    event = await make_event(rt, {"GA": 1})
    ga = type_id(event, "GA")
    a, b = await buyers(rt, 2)
    hold = await rt.holds.create(a, event.id, [LineItem(ga, 1)])
    await rt.waitlist.join(b, event.id, ga, 1)
    store = rt.waitlist._store
    await rt.store.release(event.id, hold.id, a.user_id, clock.now, "cancelled",
                           allow_checkout=False)  # no hook: as if the process died here
    crashed = await store.offer(event.id, clock.now, clock.now + 60_000, 10)
    assert [o["user_id"] for o in crashed.get("offers")] == [b.user_id]
    assert offer_rows(rt) == []
    service: WaitlistService = rt.waitlist
    await asyncio.gather(*(service.offer(event.id) for _ in range(5)))
    await rt.reconciler.run_once(clock.now)
    offered = await entry(rt, b, event.id)
    assert offer_rows(rt) == [offered.id]
    again = await store.offer(event.id, clock.now, clock.now + 60_000, 10)
    assert again.get("notes") == []  # the note is gone once enqueued
    await assert_invariant(rt, event.id)


async def test_a_quantity_above_the_capacity_is_refused(rt: Runtime) -> None:
    event = await make_event(rt, {"VIP": 1}, per_user_limit=4)
    vip = type_id(event, "VIP")
    a, b = await buyers(rt, 2)
    await rt.holds.create(a, event.id, [LineItem(vip, 1)])
    with pytest.raises(InvalidInput) as refused:  # 2 of a type of 1 could never be offered
        await rt.waitlist.join(b, event.id, vip, 2)
    assert refused.value.field == "quantity"
    assert (await rt.waitlist.view(b, event.id)).entries == []
    await assert_invariant(rt, event.id)


async def test_a_head_at_the_per_user_limit_lapses_instead_of_blocking(rt: Runtime) -> None:
    """B waits for 2 and then reaches the per-user limit elsewhere: when one ticket comes
    back (not enough for B anyway), B lapses at once and C, behind B for 1, gets it instead
    of waiting behind a head that can never be served."""
    event = await make_event(rt, {"GA": 2, "VIP": 4}, per_user_limit=4)
    ga, vip = type_id(event, "GA"), type_id(event, "VIP")
    a, x, b, c = await buyers(rt, 4)
    a_hold = await rt.holds.create(a, event.id, [LineItem(ga, 1)])
    await rt.holds.create(x, event.id, [LineItem(ga, 1)])
    await rt.waitlist.join(b, event.id, ga, 2)
    await rt.waitlist.join(c, event.id, ga, 1)
    await rt.holds.create(b, event.id, [LineItem(vip, 3)])  # 3 + the 2 awaited > 4
    await rt.holds.release(a, a_hold.id)
    assert (await entry(rt, b, event.id)).status == "lapsed"
    assert (await entry(rt, c, event.id)).status == "offered"
    await assert_invariant(rt, event.id)


async def test_a_head_above_a_lowered_capacity_lapses_instead_of_blocking(rt: Runtime) -> None:
    """C waits for 3 of GA; two come back and wait for C (gated). The organiser then lowers
    GA's capacity by one, to 2: C's 3 can never fit, so C lapses and D, behind C, gets the
    ticket that is left."""
    event = await make_event(rt, {"GA": 3}, per_user_limit=4)
    ga = type_id(event, "GA")
    a, x, c, d = await buyers(rt, 4)
    await rt.holds.create(a, event.id, [LineItem(ga, 1)])
    x_hold = await rt.holds.create(x, event.id, [LineItem(ga, 2)])
    await rt.waitlist.join(c, event.id, ga, 3)
    await rt.waitlist.join(d, event.id, ga, 1)
    await rt.holds.release(x, x_hold.id)
    assert (await entry(rt, c, event.id)).place == 1  # 2 back, C needs 3: C blocks GA
    assert (await entry(rt, d, event.id)).place == 2
    async with rt.inventory.capacity_changes(event.id):
        await rt.inventory.change_capacity(event.id, ga, 2)
    assert (await entry(rt, c, event.id)).status == "lapsed"
    assert (await entry(rt, d, event.id)).status == "offered"
    await assert_invariant(rt, event.id)


async def test_a_bought_offer_stays_bought_after_its_hold_record_is_purged(
        rt: Runtime, clock: Clock) -> None:
    event = await make_event(rt, {"GA": 1})
    ga = type_id(event, "GA")
    a, b = await buyers(rt, 2)
    await rt.holds.create(a, event.id, [LineItem(ga, 1)])
    await rt.waitlist.join(b, event.id, ga, 1)
    await expire_holds(rt, clock, rt.settings.hold_seconds)
    offer = await entry(rt, b, event.id)
    assert offer.status == "offered" and offer.hold_id
    hold = await rt.checkout.checkout(b, offer.hold_id, "tok_visa")
    assert hold.order_id
    assert isinstance(rt.bus, QueuedPayments)
    (request,) = [r for r in await rt.bus.queued() or [] if r.order_id == hold.order_id]
    await rt.finalizer.handle(request)
    bought = await entry(rt, b, event.id)
    assert (bought.status, bought.order_id) == ("purchased", hold.order_id)
    # Past the retention of ended hold records, the reconciler purges the hold's record:
    # the entry keeps what became of the offer.
    await rt.reconciler.run_once(clock.advance(rt.settings.hold_record_retention_seconds + 1))
    assert await rt.store.get_hold(event.id, offer.hold_id) is None
    kept = await entry(rt, b, event.id)
    assert (kept.status, kept.order_id) == ("purchased", hold.order_id)
    await assert_invariant(rt, event.id)
