"""Promo codes applied at hold time, atomically: percent and amount off, the validity
window, max uses under concurrent holds (a released hold gives its use back), and the order
carrying the discounted total. Every test ends with the inventory invariant."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx

from shared.runtime import Runtime
from tests.support import Live, assert_invariant, make_buyer, make_event, type_id, wait_until


async def _offer(client: httpx.AsyncClient, event_id: str, **offer: object) -> httpx.Response:
    return await client.put(f"/api/admin/events/{event_id}/offers/{offer['code']}", json=offer)


async def test_percent_and_amount_off_reach_the_hold_and_the_order(rt: Runtime,
                                                                  live: Live) -> None:
    event = await make_event(rt, {"GA": 20}, price=2500)
    ga = type_id(event, "GA")
    admin, _ = await make_buyer(rt, role="admin")
    buyer, _ = await make_buyer(rt)
    async with live.client(admin) as a:
        assert (await _offer(a, event.id, code="early20", kind="percent", value=20)
                ).status_code == 200
        assert (await _offer(a, event.id, code="TENOFF", kind="amount", value=1000)
                ).status_code == 200
        bad = await _offer(a, event.id, code="HALF", kind="percent", value=150)
        assert (bad.status_code, bad.json()["field"]) == (422, "value")
    async with live.client(buyer) as b:
        hold = (await b.post(f"/api/events/{event.id}/holds", json={
            "items": [{"ticket_type_id": ga, "quantity": 2}], "promo_code": "Early20"})).json()
        assert (hold["total"], hold["discount"], hold["promo_code"]) == (4000, 1000, "EARLY20")
        flat = (await b.post(f"/api/events/{event.id}/holds", json={
            "items": [{"ticket_type_id": ga, "quantity": 1}], "promo_code": "tenoff"})).json()
        assert flat["total"] == 1500
        unknown = await b.post(f"/api/events/{event.id}/holds", json={
            "items": [{"ticket_type_id": ga, "quantity": 1}], "promo_code": "NOPE"})
        assert (unknown.status_code, unknown.json()["field"]) == (422, "promo_code")
        order_id = (await b.post(f"/api/holds/{hold['hold_id']}/checkout",
                                 json={"payment_token": "tok_visa"})).json()["order_id"]

        async def confirmed() -> bool:
            body = (await b.get(f"/api/orders/{order_id}")).json()
            return bool(body["status"] == "confirmed")

        await wait_until(confirmed, "the order is confirmed")
        assert (await b.get(f"/api/orders/{order_id}")).json()["total"] == 4000
    await assert_invariant(rt, event.id)


async def test_promo_window_and_max_uses_hold_under_concurrency(rt: Runtime,
                                                               live: Live) -> None:
    event = await make_event(rt, {"GA": 100}, price=1000)
    ga = type_id(event, "GA")
    admin, _ = await make_buyer(rt, role="admin")
    buyers = [await make_buyer(rt) for _ in range(30)]
    later = datetime.now(UTC) + timedelta(days=2)
    async with live.client(admin) as a:
        await _offer(a, event.id, code="FIRST10", kind="percent", value=50, max_uses=10)
        await _offer(a, event.id, code="FUTURE", kind="percent", value=10,
                     valid_from=later.isoformat())
    async with live.client() as c:
        answers = await asyncio.gather(*(
            c.post(f"/api/events/{event.id}/holds",
                   headers={"authorization": f"Bearer {token}"},
                   json={"items": [{"ticket_type_id": ga, "quantity": 1}],
                         "promo_code": "FIRST10"}) for token, _ in buyers))
        counts = Counter(r.status_code for r in answers)
        assert counts == {201: 10, 409: 20}
        assert all(r.json()["total"] == 500 for r in answers if r.status_code == 201)
        future = await c.post(f"/api/events/{event.id}/holds",
                              headers={"authorization": f"Bearer {buyers[0][0]}"},
                              json={"items": [{"ticket_type_id": ga, "quantity": 1}],
                                    "promo_code": "FUTURE"})
        assert (future.status_code, future.json()["field"]) == (422, "promo_code")
        # A released hold gives its use back.
        winner = next(r for r in answers if r.status_code == 201)
        owner = buyers[answers.index(winner)][0]
        assert (await c.delete(f"/api/holds/{winner.json()['hold_id']}",
                               headers={"authorization": f"Bearer {owner}"})).status_code == 204
        again = await c.post(f"/api/events/{event.id}/holds",
                             headers={"authorization": f"Bearer {buyers[-1][0]}"},
                             json={"items": [{"ticket_type_id": ga, "quantity": 1}],
                                   "promo_code": "FIRST10"})
        assert again.status_code == 201
    async with live.client(admin) as a:
        offers = {o["code"]: o for o in (await a.get(
            f"/api/admin/events/{event.id}/offers")).json()["items"]}
        assert offers["FIRST10"]["uses"] == 10
        await _offer(a, event.id, code="FIRST10", kind="percent", value=50, max_uses=10,
                     active=False)
    async with live.client(buyers[1][0]) as b:
        retired = await b.post(f"/api/events/{event.id}/holds", json={
            "items": [{"ticket_type_id": ga, "quantity": 1}], "promo_code": "FIRST10"})
        assert retired.status_code == 422
    await assert_invariant(rt, event.id)
