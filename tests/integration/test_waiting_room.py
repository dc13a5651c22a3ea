"""The virtual waiting room (issue 14) over real HTTP with a clock the test moves: 5,000
visitors, a shuffled pre-queue, admissions at the configured rate, holds refused without a
valid admission token, pause and resume, and the organiser's API."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bench import loadgen
from shared.adapters.redis_sessions import RedisSessionCache
from shared.models import Principal, iso
from shared.runtime import Runtime
from shared.services.accounts import token_hash
from shared.settings import Settings
from tests.support import Clock, Live, assert_invariant, make_buyer, make_event, type_id

RATE = 500  # admissions per minute


@pytest.fixture
async def qlive(settings: Settings, rt: Runtime, clock: Clock) -> AsyncIterator[Live]:
    """The live stack on the test's clock, so that minutes pass without sleeping."""
    stack = Live(settings, clock=clock).start()
    yield stack
    stack.stop()


async def visitors(rt: Runtime, n: int, clock: Clock) -> list[str]:
    """``n`` signed-in accounts (sessions written to the session cache, which the API's
    authentication reads first; registering 5,000 accounts would dominate the run)."""
    cache = RedisSessionCache(rt.redis)
    tokens = [f"visitor-token-{i:05d}-{clock.now}" for i in range(n)]

    async def put(i: int) -> None:
        principal = Principal(f"visitor-{i:05d}", f"v{i}@example.com", f"Visitor {i}", "user",
                              clock.now + 86_400_000)
        await cache.put(token_hash(tokens[i]), principal, 86_400_000)

    for start in range(0, n, 500):
        await asyncio.gather(*(put(i) for i in range(start, min(n, start + 500))))
    return tokens


async def configure(client: httpx.AsyncClient, admin: str, event_id: str,
                    **body: Any) -> httpx.Response:
    return await client.put(f"/api/admin/events/{event_id}/queue", json=body,
                            headers={"authorization": f"Bearer {admin}"})


async def stats(client: httpx.AsyncClient, admin: str, event_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/admin/events/{event_id}/queue",
                         headers={"authorization": f"Bearer {admin}"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def send(live: Live, method: str, path: str, tokens: list[str]) -> list[dict[str, Any]]:
    jobs = [loadgen.Job(method, path, token=t) for t in tokens]
    results, _ = await loadgen.run(live.base_url, jobs, concurrency=32)
    assert [r.status for r in results] == [200] * len(tokens)
    return [r.json() for r in results]


def ranks(values: list[int]) -> list[int]:
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0] * len(values)
    for rank, i in enumerate(order):
        out[i] = rank
    return out


async def test_5000_visitors_shuffled_at_opening_and_admitted_once_at_the_set_rate(
        rt: Runtime, qlive: Live, clock: Clock) -> None:
    event = await make_event(rt, {"GA": 5_000})
    admin, _ = await make_buyer(rt, "admin")
    n = 5_000
    tokens = await visitors(rt, n + 50, clock)
    early, late = tokens[:n], tokens[n:]
    path = f"/api/events/{event.id}/queue"
    async with qlive.client() as client:
        opens_at = clock.now + 60_000
        r = await configure(client, admin, event.id, enabled=True, opens_at=iso(opens_at),
                            admit_per_minute=RATE)
        assert r.status_code == 200, r.text
        # Pre-queue: visitors arrive in index order over ~50 s (the clock moves between
        # waves), all before opening.
        joined: list[dict[str, Any]] = []
        for wave in range(0, n, 500):
            joined += await send(qlive, "POST", path, early[wave:wave + 500])
            clock.advance(5)
        assert {j["state"] for j in joined} == {"pre_queue"}
        assert (await stats(client, admin, event.id))["waiting"] == n
        # Joining again changes nothing.
        again = await send(qlive, "POST", path, early[:10])
        assert {j["state"] for j in again} == {"pre_queue"}

        clock.now = opens_at
        # After opening: first come, first served, behind the whole pre-queue.
        for i, token in enumerate(late):
            r = await client.post(path, headers={"authorization": f"Bearer {token}"})
            assert r.json()["place"] == n + 1 + i
        # Admissions: exactly RATE per simulated minute (the issue asks for within 1%).
        admitted = [0]
        for _minute in range(3):
            clock.advance(60)
            admitted.append((await stats(client, admin, event.id))["admitted"])
        per_minute = [b - a for a, b in itertools.pairwise(admitted)]
        assert all(abs(m - RATE) <= RATE // 100 for m in per_minute), per_minute
        # Every visitor looks (one read each: place, state and token together).
        seen = await send(qlive, "GET", path, early)
        places = [v["place"] for v in seen]
        assert sorted(places) == list(range(1, n + 1)), "every visitor has a place of their own"
        # The pre-queue is shuffled: arrival order does not predict the place.
        first_100 = places[:100]
        assert sum(1 for p in first_100 if p <= 500) < 30  # ~10 expected if uniform
        assert 1_500 < sum(first_100) / 100 < 3_500
        a, b = ranks(list(range(n))), ranks(places)
        mean = (n - 1) / 2
        cov = sum((x - mean) * (y - mean) for x, y in zip(a, b, strict=True))
        var = sum((x - mean) ** 2 for x in a)
        assert abs(cov / var) < 0.1  # Spearman's rho; ~0.014 standard deviation if random
        # Exactly those whose place was passed are admitted, each with a token of their own;
        # nobody is admitted twice.
        admitted_now = [v for v in seen if v["state"] == "admitted"]
        assert len(admitted_now) == admitted[-1] == 3 * RATE
        assert {v["place"] for v in admitted_now} == set(range(1, 3 * RATE + 1))
        assert len({v["token"] for v in admitted_now}) == 3 * RATE
        waiting = [v for v in seen if v["state"] == "queued"]
        assert all(v["ahead"] == v["place"] - 3 * RATE - 1 for v in waiting)
        assert all(v["expected_wait_seconds"] == -(-(v["ahead"] + 1) * 60 // RATE)
                   for v in waiting)


async def test_holds_need_a_valid_token_while_the_queue_is_on(
        rt: Runtime, qlive: Live, clock: Clock) -> None:
    event = await make_event(rt, {"GA": 100})
    other = await make_event(rt, {"GA": 100})
    ga, other_ga = type_id(event, "GA"), type_id(other, "GA")
    admin, _ = await make_buyer(rt, "admin")
    (alice, _), (bob, _) = await make_buyer(rt), await make_buyer(rt)

    async def hold(token: str, event_id: str, type_: str,
                   queue_token: str | None) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"}
        if queue_token is not None:
            headers["x-queue-token"] = queue_token
        return await client.post(f"/api/events/{event_id}/holds", headers=headers,
                                 json={"items": [{"ticket_type_id": type_, "quantity": 1}]})

    async with qlive.client() as client:
        for e in (event, other):
            r = await configure(client, admin, e.id, enabled=True, opens_at=iso(clock.now),
                                admit_per_minute=60)
            assert r.status_code == 200, r.text
        joined = (await client.post(f"/api/events/{event.id}/queue",
                                    headers={"authorization": f"Bearer {alice}"})).json()
        assert joined["state"] == "queued" and joined["place"] == 1
        assert joined["token"] is None
        refused = await hold(alice, event.id, ga, None)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"] == "/problems/queue-required"
        clock.advance(1)  # one admission per second at 60/min
        mine = (await client.get(f"/api/events/{event.id}/queue",
                                 headers={"authorization": f"Bearer {alice}"})).json()
        assert mine["state"] == "admitted"
        token = mine["token"]
        assert (await hold(alice, event.id, ga, "q1.99999999999999.forged")).status_code == 403
        assert (await hold(bob, event.id, ga, token)).status_code == 403  # another user's
        assert (await hold(alice, other.id, other_ga, token)).status_code == 403  # other event
        ok = await hold(alice, event.id, ga, token)
        assert ok.status_code == 201, ok.text
        # The window closes: the same token no longer admits.
        clock.advance(rt.settings.queue_admission_seconds)
        expired = await hold(alice, event.id, ga, token)
        assert expired.status_code == 403
        assert expired.json()["type"] == "/problems/queue-required"
        again = (await client.get(f"/api/events/{event.id}/queue",
                                  headers={"authorization": f"Bearer {alice}"})).json()
        assert again["state"] == "expired"
        # Turning the queue off lets holds through without a token (after the catalog's
        # in-process cache of a couple of seconds: the write invalidates it in this process).
        r = await configure(client, admin, event.id, enabled=False)
        assert r.status_code == 200
        assert (await hold(bob, event.id, ga, None)).status_code == 201
    await assert_invariant(rt, event.id)
    await assert_invariant(rt, other.id)


async def test_pausing_stops_admission_at_once_and_resuming_continues(
        rt: Runtime, qlive: Live, clock: Clock) -> None:
    event = await make_event(rt, {"GA": 10})
    admin, _ = await make_buyer(rt, "admin")
    tokens = await visitors(rt, 100, clock)
    path = f"/api/events/{event.id}/queue"
    auth = {"authorization": f"Bearer {admin}"}
    async with qlive.client() as client:
        await configure(client, admin, event.id, enabled=True, opens_at=iso(clock.now),
                        admit_per_minute=60)
        await send(qlive, "POST", path, tokens)
        clock.advance(10)
        assert (await stats(client, admin, event.id))["admitted"] == 10
        paused = await client.post(f"/api/admin/events/{event.id}/queue/pause", headers=auth)
        assert paused.json()["paused"] is True and paused.json()["admitted"] == 10
        assert paused.json()["expected_wait_seconds"] is None
        clock.advance(300)
        assert (await stats(client, admin, event.id))["admitted"] == 10
        place = (await client.get(path, headers={"authorization": f"Bearer {tokens[50]}"}))
        assert place.json()["state"] == "queued" and place.json()["paused"] is True
        # The rate may change while paused; resuming counts from now at the new rate.
        r = await configure(client, admin, event.id, enabled=True, admit_per_minute=120)
        assert r.json()["admitted"] == 10
        resumed = await client.post(f"/api/admin/events/{event.id}/queue/resume", headers=auth)
        assert resumed.json()["paused"] is False and resumed.json()["admitted"] == 10
        clock.advance(10)
        assert (await stats(client, admin, event.id))["admitted"] == 30
        # The opening time can no longer move once places were handed out.
        moved = await configure(client, admin, event.id, enabled=True,
                                opens_at=iso(clock.now + 60_000))
        assert moved.status_code == 422 and moved.json()["field"] == "opens_at"
        # Admission never runs ahead of the queue: after the last place, a quiet spell is not
        # banked, and a newcomer waits for the next admission.
        clock.advance(3600)
        assert (await stats(client, admin, event.id))["waiting"] == 0
        newcomer = (await visitors(rt, 101, clock))[100]
        late = await client.post(path, headers={"authorization": f"Bearer {newcomer}"})
        assert late.json()["state"] == "queued" and late.json()["place"] == 101
        again = await client.post(path, headers={"authorization": f"Bearer {newcomer}"})
        assert again.json()["place"] == 101  # one place per account: joining again keeps it
        audit = await client.get("/api/admin/audit", headers=auth)
        actions = {e["action"] for e in audit.json()["items"]}
        assert {"queue.configure", "queue.pause", "queue.resume"} <= actions


async def test_organiser_api_refuses_bad_input_and_non_admins(
        rt: Runtime, qlive: Live, clock: Clock) -> None:
    event = await make_event(rt, {"GA": 10})
    admin, _ = await make_buyer(rt, "admin")
    buyer, _ = await make_buyer(rt)
    async with qlive.client() as client:
        for body, field in (({"enabled": "yes"}, "enabled"),
                            ({"enabled": True, "admit_per_minute": 0}, "admit_per_minute"),
                            ({"enabled": True, "opens_at": "1999-01-01T00:00:00Z"}, "opens_at"),
                            ({"enabled": True, "size": 3}, "size")):
            r = await configure(client, admin, event.id, **body)
            assert r.status_code == 422, body
            assert r.json()["field"] == field
        assert (await client.get(f"/api/admin/events/{event.id}/queue",
                                 headers={"authorization": f"Bearer {admin}"})).status_code == 404
        assert (await configure(client, buyer, event.id, enabled=True)).status_code == 403
        # Without a queue, joining says the sale is open and holds need no token.
        r = await client.post(f"/api/events/{event.id}/queue",
                              headers={"authorization": f"Bearer {buyer}"})
        assert r.json()["state"] == "open"
        # Turned on with defaults: opens now, at the measured default rate.
        r = await configure(client, admin, event.id, enabled=True)
        assert r.json()["admit_per_minute"] == rt.settings.queue_default_admit_per_minute
        shown = (await client.get(f"/api/events/{event.id}")).json()["queue"]
        assert shown["enabled"] is True


async def test_a_restart_of_redis_without_state_restores_the_settings(
        rt: Runtime, qlive: Live, clock: Clock) -> None:
    """If Redis comes back empty, the queue's settings come back from the event document
    (places handed out before are lost then; AOF is what keeps them)."""
    event = await make_event(rt, {"GA": 10})
    admin, _ = await make_buyer(rt, "admin")
    buyer, _ = await make_buyer(rt)
    async with qlive.client() as client:
        await configure(client, admin, event.id, enabled=True, opens_at=iso(clock.now),
                        admit_per_minute=60)
        await rt.redis.delete(*(k.format(event.id) for k in
                                ("wr:{{{}}}", "wrpre:{{{}}}", "wrpos:{{{}}}", "wradm:{{{}}}")))
        r = await client.post(f"/api/events/{event.id}/queue",
                              headers={"authorization": f"Bearer {buyer}"})
        assert r.status_code == 200 and r.json()["state"] == "queued"
        assert r.json()["admit_per_minute"] == 60
