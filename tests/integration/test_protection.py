"""API protection against a real server: rate limits and lockout trigger and recover,
Idempotency-Key replays under concurrent duplicates, revocation reaches every instance's
cache, body and media-type limits, security headers, CORS and the audit log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from shared.errors import LoginLocked, TooManyRequests
from shared.models import LineItem
from shared.runtime import Runtime, build_runtime
from shared.settings import Rate, Settings
from tests.support import (
    Clock,
    Live,
    assert_invariant,
    make_buyer,
    make_event,
    type_id,
    wait_until,
)

PROBLEM = "application/problem+json"


@pytest.fixture
def tight(settings: Settings) -> Settings:
    return settings.with_(rate_auth_per_ip=Rate(3, 60_000),
                          rate_holds_per_user_event=Rate(2, 10_000), login_lockout=Rate(3, 60_000),
                          max_body_bytes=2_048, cors_origins=("https://shop.example",))


@pytest.fixture
async def trt(tight: Settings, clock: Clock) -> AsyncIterator[Runtime]:
    runtime = build_runtime(tight, clock=clock)
    await runtime.migrate()
    yield runtime
    await runtime.close()


@pytest.fixture
async def tlive(tight: Settings, trt: Runtime) -> AsyncIterator[Live]:
    stack = Live(tight).start()
    yield stack
    stack.stop()


async def test_login_rate_limit_per_address_answers_429_with_retry_after(
        trt: Runtime, tlive: Live) -> None:
    async with tlive.client() as client:
        answers = [await client.post("/api/auth/login", json={
            "email": "nobody@example.com", "password": "whatever-it-is"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    limited = answers[-1]
    assert limited.headers["content-type"] == PROBLEM
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["type"] == "/problems/rate-limited"


async def test_rate_limits_recover_after_their_window(trt: Runtime, clock: Clock) -> None:
    for _ in range(3):
        await trt.limits.auth_attempt("register", "198.51.100.7")
    with pytest.raises(TooManyRequests) as refused:
        await trt.limits.auth_attempt("register", "198.51.100.7")
    assert refused.value.retry_after_s == 20  # one attempt comes back every 60 s / 3
    await trt.limits.auth_attempt("register", "203.0.113.9")  # other addresses unaffected
    clock.advance(20)
    await trt.limits.auth_attempt("register", "198.51.100.7")


async def test_hold_rate_per_buyer_per_event_lives_in_the_hold_script(
        trt: Runtime, tlive: Live, clock: Clock) -> None:
    event = await make_event(trt, {"GA": 10})
    ga = type_id(event, "GA")
    token, user = await make_buyer(trt)
    async with tlive.client(token) as client:
        answers = [await client.post(f"/api/events/{event.id}/holds", json={
            "items": [{"ticket_type_id": ga, "quantity": 1}]}) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert "retry-after" in answers[2].headers
    assert await trt.store.availability(event.id) == {ga: 8}  # the refused one took nothing
    other_token, _ = await make_buyer(trt)
    async with tlive.client(other_token) as client:
        ok = await client.post(f"/api/events/{event.id}/holds", json={
            "items": [{"ticket_type_id": ga, "quantity": 1}]})
        assert ok.status_code == 201  # the limit is per buyer
    # The live server took the buyer's tokens on real time; the test runtime's clock stood
    # still since the fixture (seconds ago on a busy machine): bring it to real time first.
    clock.catch_up()
    clock.advance(6)  # one token comes back every 5 s: the limit has recovered for this buyer
    await trt.holds.create(user, event.id, [LineItem(ga, 1)])
    await assert_invariant(trt, event.id)


async def test_the_first_hold_after_redis_lost_an_event_costs_one_rate_token(
        trt: Runtime) -> None:
    event = await make_event(trt, {"GA": 10})
    ga = type_id(event, "GA")
    _, user = await make_buyer(trt)
    await trt.redis.flushall()  # Redis restarted empty: the hold loads the event, then retries
    await trt.holds.create(user, event.id, [LineItem(ga, 1)])
    await trt.holds.create(user, event.id, [LineItem(ga, 1)])  # the second of 2 per 10 s
    with pytest.raises(TooManyRequests):
        await trt.holds.create(user, event.id, [LineItem(ga, 1)])
    await assert_invariant(trt, event.id)


async def test_login_lockout_per_account_triggers_and_recovers(trt: Runtime,
                                                              clock: Clock) -> None:
    _, user = await make_buyer(trt)
    for _ in range(3):
        with pytest.raises(Exception, match="wrong email or password"):
            await trt.accounts.login(user.email, "not the password")
    with pytest.raises(LoginLocked):
        await trt.accounts.login(user.email, "correct horse battery")  # locked, even so
    clock.advance(20)  # 60 s / 3: one more try
    await trt.accounts.login(user.email, "correct horse battery")
    for _ in range(2):  # a success resets the count
        with pytest.raises(Exception, match="wrong email or password"):
            await trt.accounts.login(user.email, "not the password")
    await trt.accounts.login(user.email, "correct horse battery")


async def test_idempotency_key_replays_under_concurrent_duplicates(rt: Runtime,
                                                                   live: Live) -> None:
    event = await make_event(rt, {"GA": 10})
    ga = type_id(event, "GA")
    token, user = await make_buyer(rt)
    body = {"items": [{"ticket_type_id": ga, "quantity": 2}]}
    async with live.client(token) as client:
        answers = await asyncio.gather(*(
            client.post(f"/api/events/{event.id}/holds", json=body,
                        headers={"Idempotency-Key": "hold-attempt-1"}) for _ in range(10)))
        assert {a.status_code for a in answers} == {201}
        assert len({a.json()["hold_id"] for a in answers}) == 1
        assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 9
        assert {a.headers["location"] for a in answers} == {
            f"/api/holds/{answers[0].json()['hold_id']}"}
        reused = await client.post(f"/api/events/{event.id}/holds",
                                   json={"items": [{"ticket_type_id": ga, "quantity": 1}]},
                                   headers={"Idempotency-Key": "hold-attempt-1"})
        assert (reused.status_code, reused.json()["field"]) == (422, "Idempotency-Key")
        hold_id = answers[0].json()["hold_id"]
        pays = await asyncio.gather(*(
            client.post(f"/api/holds/{hold_id}/checkout", json={"payment_token": "tok_visa"},
                        headers={"Idempotency-Key": "pay-1"}) for _ in range(5)))
        assert {p.status_code for p in pays} == {202}
        assert len({p.json()["order_id"] for p in pays}) == 1
    order_id = pays[0].json()["order_id"]

    async def confirmed() -> bool:
        order = await rt.ledger.get_order(order_id)
        return order is not None and order.status == "confirmed"

    await wait_until(confirmed, "the order is confirmed")
    assert await rt.store.availability(event.id) == {ga: 8}
    assert (await rt.ledger.inventory(event.id))[0].sold == 2
    assert len(await rt.ledger.orders_of_user(user.user_id, 10)) == 1
    await assert_invariant(rt, event.id)


async def test_idempotency_key_replays_a_refusal_too(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 1})
    ga = type_id(event, "GA")
    token, _ = await make_buyer(rt)
    async with live.client(token) as client:
        body = {"items": [{"ticket_type_id": ga, "quantity": 2}]}
        first = await client.post(f"/api/events/{event.id}/holds", json=body,
                                  headers={"Idempotency-Key": "k"})
        again = await client.post(f"/api/events/{event.id}/holds", json=body,
                                  headers={"Idempotency-Key": "k"})
    assert first.status_code == again.status_code == 409
    assert again.headers["content-type"] == PROBLEM and again.json() == first.json()
    await assert_invariant(rt, event.id)


async def test_password_change_revokes_every_session_on_every_instance(
        rt: Runtime, settings: Settings) -> None:
    # The live instance would cache verified sessions for an hour: only the revocation
    # message can make it forget them while this test runs.
    live = Live(settings.with_(session_cache_seconds=3600.0)).start()
    try:
        await _revocation_reaches_the_live_instance(rt, live)
    finally:
        live.stop()


async def _revocation_reaches_the_live_instance(rt: Runtime, live: Live) -> None:
    phone, user = await make_buyer(rt)
    laptop, _ = await rt.accounts.login(user.email, "correct horse battery")
    async with live.client() as client:
        for token in (phone, laptop):  # now cached in the live instance's memory
            r = await client.get("/api/me", headers={"authorization": f"Bearer {token}"})
            assert r.status_code == 200
        weak = await client.post("/api/me/password", headers={
            "authorization": f"Bearer {phone}"}, json={
            "current_password": "correct horse battery", "new_password": "password123"})
        assert (weak.status_code, weak.json()["field"]) == (422, "new_password")
        wrong = await client.post("/api/me/password", headers={
            "authorization": f"Bearer {phone}"}, json={
            "current_password": "nope", "new_password": "a brand new secret"})
        assert (wrong.status_code, wrong.json()["field"]) == (422, "current_password")
    # The change happens on another instance (the test's runtime) ...
    new_token, _ = await rt.accounts.change_password(user, "correct horse battery",
                                                     "a brand new secret")
    async with live.client() as client:
        async def both_gone() -> bool:
            for token in (phone, laptop):
                r = await client.get("/api/me", headers={"authorization": f"Bearer {token}"})
                if r.status_code != 401:
                    return False
            return True

        # ... and the live instance drops both cached sessions (pub/sub), not after a TTL.
        await wait_until(both_gone, "the live instance drops both sessions")
        assert (await client.get("/api/me", headers={
            "authorization": f"Bearer {new_token}"})).status_code == 200
        old = await client.post("/api/auth/login", json={"email": user.email,
                                                        "password": "correct horse battery"})
        assert old.status_code == 401


async def test_body_limits_media_types_and_unknown_routes_answer_problem_json(
        tlive: Live, trt: Runtime) -> None:
    async with tlive.client() as client:
        big = await client.post("/api/auth/register", content=b"{" + b" " * 4000 + b"}",
                                headers={"content-type": "application/json"})
        assert (big.status_code, big.headers["content-type"]) == (413, PROBLEM)
        form = await client.post("/api/auth/login", content=b"email=a&password=b",
                                 headers={"content-type": "application/x-www-form-urlencoded"})
        assert (form.status_code, form.headers["content-type"]) == (415, PROBLEM)
        assert (await client.get("/api/nowhere")).status_code == 404
        wrong_method = await client.put("/api/events")
        assert (wrong_method.status_code, wrong_method.headers["content-type"]) == (405, PROBLEM)
        extra = await client.post("/api/auth/login", json={
            "email": "a@example.com", "password": "x", "remember": True})
        assert (extra.status_code, extra.json()["field"]) == (422, "remember")


async def test_security_headers_and_cors(tlive: Live, trt: Runtime) -> None:
    async with tlive.client() as client:
        api = await client.get("/api/health")
        for header in ("x-content-type-options", "referrer-policy", "x-frame-options",
                       "content-security-policy", "strict-transport-security"):
            assert header in api.headers, header
        assert api.headers["content-security-policy"].startswith("default-src 'none'")
        allowed = await client.options("/api/events", headers={
            "origin": "https://shop.example", "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type"})
        assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
        put = await client.options("/api/admin/venues/v1", headers={
            "origin": "https://shop.example", "access-control-request-method": "PUT",
            "access-control-request-headers": "authorization,content-type"})
        assert put.status_code == 200 and "PUT" in put.headers["access-control-allow-methods"]
        other = await client.get("/api/events", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_admin_actions_are_audited(rt: Runtime, live: Live) -> None:
    admin, principal = await make_buyer(rt, role="admin")
    buyer, _ = await make_buyer(rt)
    async with live.client(admin) as client:
        created = (await client.post("/api/admin/events", json={
            "name": "Audited", "starts_at": "2027-01-01T20:00:00Z",
            "venue": {"name": "Hall", "city": "Faro"},
            "ticket_types": [{"name": "GA", "price": 100, "capacity": 5}]})).json()
        await client.patch(f"/api/admin/events/{created['id']}", json={"name": "Audited II"})
        entries = (await client.get("/api/admin/audit")).json()["items"]
    assert [(e["action"], e["target"], e["actor_id"]) for e in entries] == [
        ("event.update", created["id"], principal.user_id),
        ("event.create", created["id"], principal.user_id)]
    assert entries[0]["detail"] == {"name": "Audited II"}
    async with live.client(buyer) as client:
        assert (await client.get("/api/admin/audit")).status_code == 403


async def test_hold_rate_per_buyer_across_events_rides_in_the_hold_script(
        settings: Settings, clock: Clock) -> None:
    rt = build_runtime(settings.with_(rate_holds_per_user=Rate(2, 10_000)), clock=clock)
    try:
        await rt.migrate()
        assert rt.store.multi_slot_scripts  # a single Redis server: one round trip
        first, second = await make_event(rt, {"GA": 5}), await make_event(rt, {"GA": 5})
        _, user = await make_buyer(rt)
        await rt.holds.create(user, first.id, [LineItem(type_id(first, "GA"), 1)])
        await rt.holds.create(user, second.id, [LineItem(type_id(second, "GA"), 1)])
        with pytest.raises(TooManyRequests, match="too many hold requests; retry in") as exc:
            await rt.holds.create(user, first.id, [LineItem(type_id(first, "GA"), 1)])
        assert exc.value.retry_after_s >= 1
        # The refused hold took nothing; the bucket is the one rate_limit.lua keeps.
        assert await rt.store.availability(first.id) == {type_id(first, "GA"): 4}
        assert await rt.redis.get(rt.limits.hold_bucket(user.user_id)[0]) is not None
        clock.advance(6)
        await rt.holds.create(user, first.id, [LineItem(type_id(first, "GA"), 1)])
        for event in (first, second):
            await assert_invariant(rt, event.id)
    finally:
        await rt.close()


async def test_checkout_rate_per_buyer_rides_in_the_checkout_script(
        settings: Settings, clock: Clock) -> None:
    rt = build_runtime(settings.with_(rate_checkout_per_user=Rate(2, 10_000)), clock=clock)
    try:
        await rt.migrate()
        assert rt.store.multi_slot_scripts  # a single Redis server: one round trip
        first, second = await make_event(rt, {"GA": 5}), await make_event(rt, {"GA": 5})
        _, user = await make_buyer(rt)
        holds = [await rt.holds.create(user, e.id, [LineItem(type_id(e, "GA"), 1)])
                 for e in (first, second, first)]
        for hold in holds[:2]:
            await rt.checkout.checkout(user, hold.id, "tok_visa")
        with pytest.raises(TooManyRequests, match="too many checkout requests; retry in") as exc:
            await rt.checkout.checkout(user, holds[2].id, "tok_visa")
        assert exc.value.retry_after_s >= 1
        # The refused checkout changed nothing: the hold is still held, with no order; the
        # bucket is the one rate_limit.lua keeps.
        refused = await rt.holds.get(user, holds[2].id)
        assert (refused.status.value, refused.order_id) == ("held", None)
        assert await rt.redis.get(rt.limits.checkout_bucket(user.user_id)[0]) is not None
        clock.advance(6)
        assert (await rt.checkout.checkout(user, holds[2].id, "tok_visa")).order_id
        for event in (first, second):
            await assert_invariant(rt, event.id)
    finally:
        await rt.close()
