"""The organiser console over real HTTP: my events (drafts too) with sold, capacity and
revenue; the live dashboard adding up (sold + held + available = capacity) while holds,
checkouts and payments run; orders searched and paged by keyset; a streamed CSV export of
10,000 orders; refunds of whole orders and single tickets. Purchase-path tests end with the
inventory invariant."""

from __future__ import annotations

import asyncio
import csv
import io
import random
from typing import Any

import httpx

from shared import ids
from shared.adapters.simulated_gateway import SimulatedGateway
from shared.models import Charge, LineItem, PaymentRequest, Principal, Ticket, now_ms
from shared.runtime import Runtime
from tests.support import (
    Live,
    assert_invariant,
    assert_order_page_reads_as_three,
    make_buyer,
    make_event,
    type_id,
    wait_until,
)


async def _buy(client: httpx.AsyncClient, token: str, event_id: str, type_id_: str,
               quantity: int, card: str = "tok_visa") -> str | None:
    """Hold and check out; the order id, or None when the hold was refused (sold out)."""
    auth = {"authorization": f"Bearer {token}"}
    hold = await client.post(f"/api/events/{event_id}/holds", headers=auth, json={
        "items": [{"ticket_type_id": type_id_, "quantity": quantity}]})
    if hold.status_code != 201:
        assert hold.status_code == 409, hold.text
        return None
    out = await client.post(f"/api/holds/{hold.json()['hold_id']}/checkout", headers=auth,
                            json={"payment_token": card})
    assert out.status_code == 202, out.text
    return str(out.json()["order_id"])


async def _final(client: httpx.AsyncClient, token: str, order_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {}

    async def final() -> bool:
        nonlocal body
        body = (await client.get(f"/api/orders/{order_id}",
                                 headers={"authorization": f"Bearer {token}"})).json()
        return bool(body["status"] != "pending")

    await wait_until(final, "final")
    return body


async def test_my_events_lists_drafts_with_sold_capacity_and_revenue(rt: Runtime,
                                                                     live: Live) -> None:
    admin, _ = await make_buyer(rt, role="admin")
    buyer, _ = await make_buyer(rt)
    sold_event = await make_event(rt, {"GA": 10}, price=2500, name="Console on sale")
    async with live.client(admin) as a:
        venue = (await a.post("/api/admin/venues", json={"name": "Old Hall",
                                                         "city": "Braga"})).json()
        draft = await a.post("/api/admin/events", json={
            "name": "Console draft", "starts_at": "2027-05-01T19:00:00Z", "status": "draft",
            "venue_id": venue["id"],
            "ticket_types": [{"name": "GA", "price": 1000, "capacity": 40}]})
        assert draft.status_code == 201, draft.text
        assert (draft.json()["status"], draft.json()["venue"]["name"]) == ("draft", "Old Hall")
        async with live.client() as c:
            order_id = await _buy(c, buyer, sold_event.id, type_id(sold_event, "GA"), 2)
            assert order_id is not None
            assert (await _final(c, buyer, order_id))["status"] == "confirmed"
        listing = await a.get("/api/admin/events")
        assert listing.status_code == 200
        rows = {r["event"]["id"]: r for r in listing.json()["items"]}
        assert rows[draft.json()["id"]]["event"]["status"] == "draft"
        assert (rows[draft.json()["id"]]["capacity"], rows[draft.json()["id"]]["sold"]) == (40, 0)
        mine = rows[sold_event.id]
        assert (mine["capacity"], mine["sold"], mine["revenue"], mine["orders"]) == (
            10, 2, 5000, 1)
        async with live.client(buyer) as b:
            assert (await b.get("/api/admin/events")).status_code == 403
    await assert_invariant(rt, sold_event.id)


async def test_dashboard_adds_up_while_a_sale_runs(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"Floor": 60, "Balcony": 30}, price=1500, per_user_limit=8)
    floor, balcony = type_id(event, "Floor"), type_id(event, "Balcony")
    admin, _ = await make_buyer(rt, role="admin")
    buyers = [await make_buyer(rt) for _ in range(40)]
    capacity = {floor: 60, balcony: 30}
    snapshots: list[dict[str, object]] = []
    selling = True

    async def watch(a: httpx.AsyncClient) -> None:
        while selling:
            d = await a.get(f"/api/admin/events/{event.id}/dashboard")
            assert d.status_code == 200, d.text
            body = d.json()
            snapshots.append(body)
            for t in body["ticket_types"]:
                assert t["available"] >= 0
                assert t["sold"] + t["held"] + t["available"] == capacity[t["id"]], t
            assert body["sold"] + body["held"] + body["available"] == 90
            await asyncio.sleep(0)  # yield to the buyers between polls

    async def shop(c: httpx.AsyncClient, token: str, i: int) -> None:
        for n in range(3):
            tt = floor if (i + n) % 3 else balcony
            card = "tok_chargeDeclined" if (i + n) % 7 == 0 else "tok_visa"
            order_id = await _buy(c, token, event.id, tt, 1 + (i % 2), card)
            if order_id is not None:
                await _final(c, token, order_id)

    async with live.client(admin) as a, live.client() as c:
        watcher = asyncio.create_task(watch(a))
        await asyncio.gather(*(shop(c, token, i) for i, (token, _) in enumerate(buyers)))
        selling = False
        await watcher
        final = (await a.get(f"/api/admin/events/{event.id}/dashboard")).json()
    assert len(snapshots) > 3  # the sums were checked mid-sale, not only at the end
    assert any(s["held"] for s in snapshots)  # ... including while tickets were held
    sold = sum(line.sold for line in await rt.ledger.inventory(event.id))
    assert final["sold"] == sold > 0
    assert final["revenue"] == sold * 1500
    assert sum(p["tickets"] for p in final["sales"]) == sold
    await assert_invariant(rt, event.id)


async def test_orders_search_and_keyset_pages(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 50}, price=1000, per_user_limit=10)
    ga = type_id(event, "GA")
    admin, _ = await make_buyer(rt, role="admin")
    buyers = [await make_buyer(rt) for _ in range(5)]
    placed: list[str] = []
    async with live.client() as c:
        for token, _ in buyers:
            for _ in range(2):
                order_id = await _buy(c, token, event.id, ga, 1)
                assert order_id is not None
                await _final(c, token, order_id)
                placed.append(order_id)
    async with live.client(admin) as a:
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
            page = (await a.get(f"/api/admin/events/{event.id}/orders", params=params)).json()
            seen += [r["order_id"] for r in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(placed) and len(seen) == len(set(seen)) == 10
        email = buyers[2][1].email
        by_email = (await a.get(f"/api/admin/events/{event.id}/orders",
                                params={"q": email[:12].upper()})).json()["items"]
        assert {r["email"] for r in by_email} == {email} and len(by_email) == 2
        # The console shows an order's last ten digits (its ids begin with their creation
        # time); those, or the id from its start, find it.
        for q in (placed[4][-10:].upper(), placed[4], placed[4].split(".")[1]):
            by_id = (await a.get(f"/api/admin/events/{event.id}/orders",
                                 params={"q": q})).json()["items"]
            assert [r["order_id"] for r in by_id] == [placed[4]]
        bad = await a.get(f"/api/admin/events/{event.id}/orders", params={"cursor": "x~y"})
        assert (bad.status_code, bad.json()["field"]) == (422, "cursor")
        detail = (await a.get(f"/api/admin/orders/{placed[0]}")).json()
        assert detail["email"] == buyers[0][1].email
        assert detail["order"]["status"] == "confirmed"
    await assert_invariant(rt, event.id)


async def test_refund_whole_order_and_single_tickets(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 6}, price=2000, per_user_limit=6)
    ga = type_id(event, "GA")
    admin, _ = await make_buyer(rt, role="admin")
    ana, _ = await make_buyer(rt)
    ben, _ = await make_buyer(rt)
    async with live.client() as c:
        whole = await _buy(c, ana, event.id, ga, 2)
        part = await _buy(c, ben, event.id, ga, 4)
        assert whole and part
        await _final(c, ana, whole)
        ben_order = await _final(c, ben, part)
        assert await _buy(c, ana, event.id, ga, 1) is None  # sold out
    await assert_invariant(rt, event.id)
    tickets = [str(t["id"]) for t in ben_order["tickets"]]
    async with live.client(admin) as a:
        r = await a.post(f"/api/admin/orders/{whole}/refunds", json={})
        assert r.status_code == 200, r.text
        assert [x["status"] for x in r.json()["refunds"]] == ["done"]
        assert r.json()["refunds"][0]["amount"] == 4000
        again = await a.post(f"/api/admin/orders/{whole}/refunds", json={})
        assert len(again.json()["refunds"]) == 1  # idempotent: nothing more refunded
        one = await a.post(f"/api/admin/orders/{part}/refunds", json={"ticket_ids": tickets[:1]})
        assert one.json()["refunds"][0]["amount"] == 2000
        assert one.json()["order"]["refunded"] == 2000
        assert [t["status"] for t in one.json()["order"]["tickets"]].count("refunded") == 1
        assert (await assert_order_page_reads_as_three(rt, part)).order.refunded == 2000
        unknown = await a.post(f"/api/admin/orders/{part}/refunds",
                               json={"ticket_ids": ["nope"]})
        assert (unknown.status_code, unknown.json()["field"]) == (422, "ticket_ids")
        audit = (await a.get(f"/api/admin/events/{event.id}/audit")).json()["items"]
        assert [e["action"] for e in audit].count("order.refund") == 2
    assert await rt.store.availability(event.id) == {ga: 3}
    assert [line.sold for line in await rt.ledger.inventory(event.id)] == [3]
    await assert_invariant(rt, event.id)
    gateway = rt.gateway
    assert isinstance(gateway, SimulatedGateway)
    charge = await gateway.find_charge(whole)
    assert charge is not None and charge.refunded
    ben_charge = await gateway.find_charge(part)
    assert ben_charge is not None and gateway.refunded_amount(ben_charge.id) == 2000
    async with live.client(ana) as b:
        mine = (await b.get("/api/me/orders")).json()["items"]
        assert mine[0]["refunded"] == 4000
        assert {t["status"] for t in mine[0]["tickets"]} == {"refunded"}
    async with live.client() as c:  # the refunded tickets are on sale again
        again_order = await _buy(c, ana, event.id, ga, 2)
        assert again_order is not None
        assert (await _final(c, ana, again_order))["status"] == "confirmed"
    await assert_invariant(rt, event.id)


async def test_concurrent_refunds_of_one_order_refund_once(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 10}, price=1000)
    ga = type_id(event, "GA")
    admin, _ = await make_buyer(rt, role="admin")
    buyer, _ = await make_buyer(rt)
    async with live.client() as c:
        order_id = await _buy(c, buyer, event.id, ga, 3)
        assert order_id
        await _final(c, buyer, order_id)
    async with live.client(admin) as a:
        answers = await asyncio.gather(*(a.post(f"/api/admin/orders/{order_id}/refunds",
                                                json={}) for _ in range(6)))
    assert {r.status_code for r in answers} == {200}
    refunds = (await rt.console.order(order_id)).refunds
    assert sum(r.amount for r in refunds) == 3000
    assert await rt.store.availability(event.id) == {ga: 10}
    await assert_invariant(rt, event.id)


async def test_csv_export_of_10000_orders_streams(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 20_000}, price=500)
    ga = type_id(event, "GA")
    admin, _ = await make_buyer(rt, role="admin")
    _, buyer = await make_buyer(rt)
    start = now_ms() - 10_000 * 1000
    rng = random.Random(15)
    for i in range(10_000):
        order_id = ids.new_child_id(event.id)
        request = PaymentRequest(order_id=order_id, hold_id=ids.new_child_id(event.id),
                                 event_id=event.id, user_id=buyer.user_id,
                                 items=(LineItem(ga, 1, 500),), amount=500, currency="EUR",
                                 payment_token="tok_visa")
        charge = Charge(id=f"ch_{i}", idempotency_key=order_id, amount=500, currency="EUR")
        ticket = Ticket(id=ids.new_id(), order_id=order_id, event_id=event.id,
                        ticket_type_id=ga, code=ids.new_ticket_code())
        await rt.ledger.record_confirmed(request, charge, [ticket],
                                         start + i * 1000 + rng.randrange(1000))
    chunks = 0
    text = io.StringIO()
    async with live.client(admin) as a, a.stream(
            "GET", f"/api/admin/events/{event.id}/orders.csv") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "content-length" not in response.headers
        assert response.headers.get("transfer-encoding") == "chunked"
        async for chunk in response.aiter_text():
            chunks += 1
            text.write(chunk)
    rows = list(csv.reader(io.StringIO(text.getvalue())))
    assert rows[0][0] == "order_id"
    assert len(rows) == 10_001
    assert len({r[0] for r in rows[1:]}) == 10_000
    assert chunks > 1  # sent a page at a time, not built whole
    audit = await rt.console.audit(event.id, 10)
    assert [e["action"] for e in audit].count("orders.export") == 1


async def _paid_order(rt: Runtime, buyer: Principal, event_id: str, type_id_: str,
                      quantity: int) -> str:
    """A confirmed order through the services (no live stack whose reconciler would race)."""
    hold = await rt.holds.create(buyer, event_id, [LineItem(type_id_, quantity)])
    hold = await rt.checkout.checkout(buyer, hold.id, "tok_visa")
    assert hold.order_id
    await rt.finalizer.handle(PaymentRequest(
        order_id=hold.order_id, hold_id=hold.id, event_id=event_id, user_id=buyer.user_id,
        items=hold.items, amount=hold.total, currency=hold.currency, payment_token="tok_visa"))
    return hold.order_id


async def test_cancelling_an_event_refunds_every_order_and_resumes_after_a_crash(
        rt: Runtime) -> None:
    event = await make_event(rt, {"GA": 40}, price=1000, per_user_limit=4)
    ga = type_id(event, "GA")
    _, admin = await make_buyer(rt, role="admin")
    orders = [await _paid_order(rt, (await make_buyer(rt))[1], event.id, ga, 2)
              for _ in range(12)]
    # One order is already partly refunded by hand: the job refunds only what is left.
    first = (await rt.console.order(orders[0])).order
    await rt.refunds.refund(orders[0], [first.tickets[0].id], admin)
    job = await rt.cancellations.start(event.id, admin)
    assert (job.status, job.orders) == ("running", 12)
    partial = await rt.cancellations.run(event.id, max_orders=5)  # "crashes" after 5 orders
    assert partial is not None and partial.status == "running"
    assert partial.refunded == 5
    assert await rt.cancellations.resume() == 1  # the reconciler's pass finishes it
    final = await rt.cancellations.progress(event.id)
    assert (final.status, final.orders, final.refunded) == ("done", 12, 12)
    assert await rt.cancellations.resume() == 0
    gateway = rt.gateway
    assert isinstance(gateway, SimulatedGateway)
    for order_id in orders:  # every buyer got exactly their money back, once
        charge = await gateway.find_charge(order_id)
        assert charge is not None and gateway.refunded_amount(charge.id) == 2000
    assert [line.sold for line in await rt.ledger.inventory(event.id)] == [0]
    await assert_invariant(rt, event.id)


async def test_cancel_and_refund_over_http_reports_progress(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 10}, price=1000)
    ga = type_id(event, "GA")
    admin_token, _ = await make_buyer(rt, role="admin")
    async with live.client() as c:
        for _ in range(3):
            token, _ = await make_buyer(rt)
            order_id = await _buy(c, token, event.id, ga, 1)
            assert order_id
            await _final(c, token, order_id)
    async with live.client(admin_token) as a:
        assert (await a.get(f"/api/admin/events/{event.id}/cancellation")).status_code == 404
        started = await a.post(f"/api/admin/events/{event.id}/cancellation")
        assert started.status_code == 202
        assert started.headers["location"].endswith(f"/events/{event.id}/cancellation")

        async def done() -> bool:
            body = (await a.get(f"/api/admin/events/{event.id}/cancellation")).json()
            return bool(body["status"] == "done")

        await wait_until(done, "done")
        final = (await a.get(f"/api/admin/events/{event.id}/cancellation")).json()
        assert (final["orders"], final["refunded"]) == (3, 3)
        hold = await a.post(f"/api/events/{event.id}/holds", json={
            "items": [{"ticket_type_id": ga, "quantity": 1}]})
        assert hold.status_code == 409  # sales stopped
        audit = (await a.get(f"/api/admin/events/{event.id}/audit")).json()["items"]
        assert "event.cancel_and_refund" in [e["action"] for e in audit]
    await assert_invariant(rt, event.id)


async def test_a_refund_interrupted_after_the_ledger_is_finished_once(rt: Runtime) -> None:
    """A crash right after step 1 (ledger) leaves the tickets void and off sale; the next
    reconciler pass refunds the money and restocks exactly once, however often it runs.
    (No live stack here: its reconciler would finish the refund while the test looks.)"""
    from shared.adapters.redis_console import RedisConsoleStore
    from shared.adapters.sql_console import SqlConsole

    event = await make_event(rt, {"GA": 4}, price=1000)
    ga = type_id(event, "GA")
    _, admin = await make_buyer(rt, role="admin")
    _, buyer = await make_buyer(rt)
    order_id = await _paid_order(rt, buyer, event.id, ga, 2)
    console = SqlConsole(rt.ledger)
    refund = await console.create_refund("r-crash-1", order_id, None, {ga: 1000},
                                         admin.user_id, rt.clock())
    assert refund is not None and refund.status == "pending"
    # Between the steps: sold is down, Redis not yet up; the sum is short, never over.
    assert [line.sold for line in await rt.ledger.inventory(event.id)] == [0]
    assert await rt.store.availability(event.id) == {ga: 2}
    assert await rt.refunds.resume() == 1
    assert await rt.refunds.resume() == 0  # nothing left to finish
    assert await RedisConsoleStore(rt.redis).restock(event.id, "r-crash-1", admin.user_id,
                                                     [(ga, 2)]) is False  # once per refund
    assert await rt.store.availability(event.id) == {ga: 4}
    assert [r.status for r in await console.refunds_of(order_id)] == ["done"]
    gateway = rt.gateway
    assert isinstance(gateway, SimulatedGateway)
    charge = await gateway.find_charge(order_id)
    assert charge is not None and gateway.refunded_amount(charge.id) == 2000
    await assert_invariant(rt, event.id)
