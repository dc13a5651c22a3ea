"""Holds under contention, through the real HTTP API: no oversell, all-or-nothing lines,
and the per-user limit, each run ending with the inventory invariant."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from shared.runtime import Runtime
from tests.support import Live, assert_invariant, make_buyer, make_event, type_id


async def _hold(client: httpx.AsyncClient, token: str, event_id: str,
                items: list[dict[str, object]]) -> httpx.Response:
    return await client.post(f"/api/events/{event_id}/holds", json={"items": items},
                             headers={"authorization": f"Bearer {token}"})


async def test_500_concurrent_holds_for_50_tickets_sell_exactly_50(
        rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 50}, per_user_limit=8)
    ga = type_id(event, "GA")
    buyers = [await make_buyer(rt) for _ in range(100)]
    async with live.client() as client:
        responses = await asyncio.gather(*(
            _hold(client, buyers[i % 100][0], event.id, [{"ticket_type_id": ga, "quantity": 1}])
            for i in range(500)
        ))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 50, 409: 450}
    for r in responses:
        if r.status_code == 409:
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["type"] == "/problems/sold-out"
    assert await rt.store.availability(event.id) == {ga: 0}
    await assert_invariant(rt, event.id)


async def test_multi_type_hold_is_all_or_nothing(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"Floor": 10, "Balcony": 5})
    floor, balcony = type_id(event, "Floor"), type_id(event, "Balcony")
    buyers = [await make_buyer(rt) for _ in range(12)]
    async with live.client() as client:
        responses = await asyncio.gather(*(
            _hold(client, token, event.id, [{"ticket_type_id": floor, "quantity": 1},
                                            {"ticket_type_id": balcony, "quantity": 1}])
            for token, _ in buyers
        ))
        # Balcony is gone: a pair that needs one must not take a floor ticket either.
        late = await _hold(client, buyers[0][0], event.id,
                           [{"ticket_type_id": floor, "quantity": 2},
                            {"ticket_type_id": balcony, "quantity": 1}])
    assert Counter(r.status_code for r in responses) == {201: 5, 409: 7}
    assert late.status_code == 409
    assert late.json()["field"] == "items[1].quantity"
    assert await rt.store.availability(event.id) == {floor: 5, balcony: 0}
    await assert_invariant(rt, event.id)


async def test_per_user_limit_holds_under_concurrent_requests_of_one_user(
        rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 100}, per_user_limit=8)
    ga = type_id(event, "GA")
    token, _ = await make_buyer(rt)
    async with live.client() as client:
        responses = await asyncio.gather(*(
            _hold(client, token, event.id, [{"ticket_type_id": ga, "quantity": 1}])
            for _ in range(30)
        ))
        too_many = await _hold(client, token, event.id, [{"ticket_type_id": ga, "quantity": 1}])
    assert Counter(r.status_code for r in responses) == {201: 8, 403: 22}
    assert too_many.status_code == 403
    assert too_many.json()["type"] == "/problems/per-user-limit"
    assert (await rt.store.availability(event.id)) == {ga: 92}
    await assert_invariant(rt, event.id)


async def test_releasing_a_hold_frees_the_per_user_allowance(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 20}, per_user_limit=4)
    ga = type_id(event, "GA")
    token, _ = await make_buyer(rt)
    async with live.client(token) as client:
        first = await client.post(f"/api/events/{event.id}/holds",
                                  json={"items": [{"ticket_type_id": ga, "quantity": 4}]})
        assert first.status_code == 201
        blocked = await client.post(f"/api/events/{event.id}/holds",
                                    json={"items": [{"ticket_type_id": ga, "quantity": 1}]})
        assert blocked.status_code == 403
        gone = await client.delete(f"/api/holds/{first.json()['hold_id']}")
        assert gone.status_code == 204
        again = await client.delete(f"/api/holds/{first.json()['hold_id']}")
        assert again.status_code == 204  # idempotent
        second = await client.post(f"/api/events/{event.id}/holds",
                                   json={"items": [{"ticket_type_id": ga, "quantity": 4}]})
        assert second.status_code == 201
    assert await rt.store.availability(event.id) == {ga: 16}
    await assert_invariant(rt, event.id)
