"""The HTTP contract of DESIGN.md §7 over a real server: the purchase end to end, ownership,
authentication and problem+json errors that name the field and change nothing."""

from __future__ import annotations

import httpx
import pytest

from shared.runtime import Runtime
from tests.support import Live, assert_invariant, make_buyer, make_event, type_id, wait_until

PROBLEM = "application/problem+json"


async def _wait_final(client: httpx.AsyncClient, order_id: str) -> dict[str, object]:
    body: dict[str, object] = {}

    async def final() -> bool:
        nonlocal body
        body = (await client.get(f"/api/orders/{order_id}")).json()
        return body["status"] != "pending"

    await wait_until(final, "the order is final")
    return body


async def test_purchase_end_to_end_over_http(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 10, "VIP": 2}, price=2500)
    ga, vip = type_id(event, "GA"), type_id(event, "VIP")
    async with live.client() as anon:
        assert (await anon.post("/api/auth/register", json={
            "email": " Ana@Example.com ", "password": "s3cret-pass", "display_name": "Ana"})
        ).status_code == 201
        login = await anon.post("/api/auth/login", json={"email": "ana@example.com",
                                                          "password": "s3cret-pass"})
        assert login.status_code == 200
        token = login.json()["token"]
        detail = (await anon.get(f"/api/events/{event.id}")).json()
        assert {t["name"]: t["capacity"] for t in detail["ticket_types"]} == {"GA": 10, "VIP": 2}
    async with live.client(token) as client:
        hold = await client.post(f"/api/events/{event.id}/holds", json={"items": [
            {"ticket_type_id": ga, "quantity": 2}, {"ticket_type_id": vip, "quantity": 1}]})
        assert hold.status_code == 201, hold.text
        h = hold.json()
        assert (h["status"], h["total"], h["currency"]) == ("held", 7500, "EUR")
        assert (await client.get(f"/api/holds/{h['hold_id']}")).json()["status"] == "held"
        pay = await client.post(f"/api/holds/{h['hold_id']}/checkout",
                                json={"payment_token": "tok_visa"})
        assert pay.status_code == 202
        order_id = pay.json()["order_id"]
        assert pay.headers["location"] == f"/api/orders/{order_id}"
        # Checking out the same hold again answers the same order.
        again = await client.post(f"/api/holds/{h['hold_id']}/checkout",
                                  json={"payment_token": "tok_visa"})
        assert again.json()["order_id"] == order_id
        order = await _wait_final(client, order_id)
        assert order["status"] == "confirmed" and order["total"] == 7500
        assert len(order["tickets"]) == 3  # type: ignore[arg-type]
        mine = (await client.get("/api/me/orders")).json()["items"]
        assert [o["order_id"] for o in mine] == [order_id]
        avail = (await client.get(f"/api/events/{event.id}/availability")).json()
        assert {t["id"]: t["available"] for t in avail["ticket_types"]} == {ga: 8, vip: 1}
        assert (await client.delete(f"/api/holds/{h['hold_id']}")).status_code == 409
    await assert_invariant(rt, event.id)


async def test_declined_payment_over_http_fails_the_order(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 4})
    token, _ = await make_buyer(rt)
    async with live.client(token) as client:
        h = (await client.post(f"/api/events/{event.id}/holds", json={
            "items": [{"ticket_type_id": type_id(event, "GA"), "quantity": 2}]})).json()
        pay = await client.post(f"/api/holds/{h['hold_id']}/checkout",
                                json={"payment_token": "tok_chargeDeclined"})
        order = await _wait_final(client, pay.json()["order_id"])
        assert (order["status"], order["reason"]) == ("failed", "payment_declined")
        retry = await client.post(f"/api/holds/{h['hold_id']}/checkout",
                                  json={"payment_token": "tok_visa"})
        assert retry.status_code == 409
        assert retry.json()["type"] == "/problems/hold-not-active"
    assert await rt.store.availability(event.id) == {type_id(event, "GA"): 4}
    await assert_invariant(rt, event.id)


async def test_another_users_hold_and_order_answer_404(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 10})
    owner, _ = await make_buyer(rt)
    other, _ = await make_buyer(rt)
    async with live.client(owner) as mine:
        h = (await mine.post(f"/api/events/{event.id}/holds", json={
            "items": [{"ticket_type_id": type_id(event, "GA"), "quantity": 1}]})).json()
        hold_id = h["hold_id"]
        order_id = (await mine.post(f"/api/holds/{hold_id}/checkout",
                                    json={"payment_token": "tok_visa"})).json()["order_id"]
        pending = await mine.get(f"/api/orders/{order_id}")
        assert pending.status_code == 200
    async with live.client(other) as theirs:
        for response in (
            await theirs.get(f"/api/holds/{hold_id}"),
            await theirs.delete(f"/api/holds/{hold_id}"),
            await theirs.post(f"/api/holds/{hold_id}/checkout",
                              json={"payment_token": "tok_visa"}),
            await theirs.get(f"/api/orders/{order_id}"),
        ):
            assert response.status_code == 404
            assert response.headers["content-type"] == PROBLEM
        async with live.client(owner) as mine:
            await _wait_final(mine, order_id)
        assert (await theirs.get(f"/api/orders/{order_id}")).status_code == 404
        assert (await theirs.get("/api/me/orders")).json()["items"] == []
        assert (await theirs.get("/api/holds/not-a-hold-id")).status_code == 404
    await assert_invariant(rt, event.id)


@pytest.mark.parametrize("method,path", [
    ("POST", "/api/events/{e}/holds"), ("GET", "/api/holds/{e}.0123456789abcdef0123456789abcdef"),
    ("POST", "/api/holds/{e}.0123456789abcdef0123456789abcdef/checkout"),
    ("GET", "/api/me/orders"), ("POST", "/api/auth/logout"), ("POST", "/api/admin/events"),
])
async def test_unauthenticated_requests_answer_401(rt: Runtime, live: Live, method: str,
                                                   path: str) -> None:
    event = await make_event(rt, {"GA": 3})
    async with live.client() as client:
        r = await client.request(method, path.format(e=event.id), json={"items": [
            {"ticket_type_id": type_id(event, "GA"), "quantity": 1}]},
            headers={"authorization": "Bearer not-a-real-token"} if "me" in path else {})
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["www-authenticate"] == "Bearer"
    assert await rt.store.availability(event.id) == {type_id(event, "GA"): 3}
    await assert_invariant(rt, event.id)


@pytest.mark.parametrize("body,field", [
    ({}, "items"),
    ({"items": []}, "items"),
    ({"items": [{"ticket_type_id": "GA"}]}, "items[0].quantity"),
    ({"items": [{"ticket_type_id": "GA", "quantity": 0}]}, "items[0].quantity"),
    ({"items": [{"ticket_type_id": "GA", "quantity": "two"}]}, "items[0].quantity"),
    ({"items": [{"ticket_type_id": "GA", "quantity": 1, "seat": "A1"}]}, "items[0].seat"),
    ({"items": [{"ticket_type_id": "nope", "quantity": 1}]}, "items[0].ticket_type_id"),
    ({"items": [{"ticket_type_id": "GA", "quantity": 1},
                {"ticket_type_id": "GA", "quantity": 1}]}, "items[1].ticket_type_id"),
])
async def test_malformed_hold_bodies_answer_422_naming_the_field(
        rt: Runtime, live: Live, body: dict[str, object], field: str) -> None:
    event = await make_event(rt, {"GA": 3})
    ga = type_id(event, "GA")
    for item in body.get("items", []):  # type: ignore[attr-defined]
        if item.get("ticket_type_id") == "GA":
            item["ticket_type_id"] = ga
    token, _ = await make_buyer(rt)
    async with live.client(token) as client:
        r = await client.post(f"/api/events/{event.id}/holds", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["field"] == field
    assert field in problem["detail"]
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert await rt.store.availability(event.id) == {ga: 3}
    await assert_invariant(rt, event.id)


async def test_bad_json_and_bad_registration_answer_problem_json(rt: Runtime,
                                                                 live: Live) -> None:
    async with live.client() as client:
        r = await client.post("/api/auth/register", content=b"{not json",
                              headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
        r = await client.post("/api/auth/register", json={
            "email": "not-an-email", "password": "long enough", "display_name": "X"})
        assert (r.status_code, r.json()["field"]) == (422, "email")
        r = await client.post("/api/auth/register", json={
            "email": "a@example.com", "password": "short", "display_name": "X"})
        assert (r.status_code, r.json()["field"]) == (422, "password")
        ok = await client.post("/api/auth/register", json={
            "email": "a@example.com", "password": "long enough", "display_name": "X"})
        assert ok.status_code == 201
        dup = await client.post("/api/auth/register", json={
            "email": "A@example.com", "password": "long enough", "display_name": "Y"})
        assert (dup.status_code, dup.json()["field"]) == (409, "email")
        bad = await client.post("/api/auth/login", json={"email": "a@example.com",
                                                         "password": "wrong password"})
        assert bad.status_code == 401
        assert (await client.get("/api/nowhere")).headers["content-type"] == PROBLEM
        assert (await client.get("/api/events/unknown-event")).status_code == 404
        assert (await client.get("/api/events/unknown-event/availability")).status_code == 404


async def test_logout_revokes_the_token(rt: Runtime, live: Live) -> None:
    token, _ = await make_buyer(rt)
    async with live.client(token) as client:
        assert (await client.get("/api/me")).status_code == 200
        assert (await client.post("/api/auth/logout")).status_code == 204
        assert (await client.get("/api/me")).status_code == 401
    # Also once the Redis copy is gone: the SQL row is revoked too.
    await rt.redis.flushall()
    async with live.client(token) as client:
        assert (await client.get("/api/me")).status_code == 401


async def test_sessions_survive_a_redis_flush(rt: Runtime, live: Live) -> None:
    token, _ = await make_buyer(rt)
    await rt.redis.flushall()
    async with live.client(token) as client:
        assert (await client.get("/api/me")).status_code == 200


async def test_admin_creates_events_and_buyers_cannot(rt: Runtime, live: Live) -> None:
    admin, _ = await make_buyer(rt, role="admin")
    buyer, _ = await make_buyer(rt)
    body = {"name": "Open Air", "starts_at": "2027-06-01T18:00:00+02:00",
            "venue": {"name": "Park", "city": "Porto"},
            "ticket_types": [{"name": "GA", "price": 3000, "capacity": 25}]}
    async with live.client(buyer) as client:
        assert (await client.post("/api/admin/events", json=body)).status_code == 403
    async with live.client(admin) as client:
        bad = await client.post("/api/admin/events", json={**body, "ticket_types": []})
        assert (bad.status_code, bad.json()["field"]) == (422, "ticket_types")
        created = await client.post("/api/admin/events", json=body)
        assert created.status_code == 201, created.text
        event = created.json()
        assert event["starts_at"] == "2027-06-01T16:00:00Z"
        avail = (await client.get(f"/api/events/{event['id']}/availability")).json()
        assert avail["ticket_types"][0]["available"] == 25
        listed = (await client.get("/api/events", params={"city": "porto"})).json()
        assert [e["id"] for e in listed["items"]] == [event["id"]]
    await assert_invariant(rt, event["id"])


async def test_event_listing_filters_and_pages(rt: Runtime, live: Live) -> None:
    for i in range(5):
        await make_event(rt, {"GA": 1}, name=f"Night {i}", city="Lisbon" if i % 2 else "Porto",
                         days_ahead=i + 1)
    async with live.client() as client:
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/events", params=params)).json()
            seen += [e["name"] for e in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == [f"Night {i}" for i in range(5)]
        lisbon = (await client.get("/api/events", params={"city": "Lisbon"})).json()["items"]
        assert [e["name"] for e in lisbon] == ["Night 1", "Night 3"]
        q = (await client.get("/api/events", params={"q": "night 4"})).json()["items"]
        assert [e["name"] for e in q] == ["Night 4"]
        bad = await client.get("/api/events", params={"cursor": "%%%"})
        assert (bad.status_code, bad.json()["field"]) == (422, "cursor")


async def test_readiness_names_the_failed_dependency(rt: Runtime, live: Live) -> None:
    async with live.client() as client:
        ok = await client.get("/api/health/ready")
        assert ok.json()["checks"] == {"redis": "ok", "sql": "ok", "catalog": "ok"}


async def test_admin_edits_reach_the_next_hold(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 10}, price=1000, per_user_limit=4)
    ga = type_id(event, "GA")
    admin, _ = await make_buyer(rt, role="admin")
    buyer, _ = await make_buyer(rt)
    patch = {"name": "Renamed night", "per_user_limit": 2,
             "venue": {"name": "New Hall", "city": "Braga"},
             "ticket_types": [{"id": ga, "price": 1500}]}
    async with live.client(buyer) as client:
        assert (await client.patch(f"/api/admin/events/{event.id}", json=patch)).status_code == 403
    async with live.client(admin) as client:
        bad = await client.patch(f"/api/admin/events/{event.id}",
                                 json={"ticket_types": [{"id": "nope", "price": 1}]})
        assert (bad.status_code, bad.json()["field"]) == (422, "ticket_types[0].id")
        r = await client.patch(f"/api/admin/events/{event.id}", json=patch)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["name"], body["venue"]["city"], body["per_user_limit"]) == (
            "Renamed night", "Braga", 2)
        assert body["ticket_types"][0]["price"] == 1500
        assert body["ticket_types"][0]["capacity"] == 10
        assert body["venue"]["id"] == event.venue.id
    async with live.client(buyer) as client:
        hold = await client.post(f"/api/events/{event.id}/holds",
                                 json={"items": [{"ticket_type_id": ga, "quantity": 2}]})
        assert (hold.status_code, hold.json()["total"]) == (201, 3000)
        over = await client.post(f"/api/events/{event.id}/holds",
                                 json={"items": [{"ticket_type_id": ga, "quantity": 1}]})
        assert over.status_code == 403
    await assert_invariant(rt, event.id)


async def test_password_policy_states_the_rules_register_applies(live: Live) -> None:
    async with live.client() as anon:
        r = await anon.get("/api/auth/password-policy")
        assert r.status_code == 200 and "max-age" in r.headers["cache-control"]
        policy = r.json()
        assert policy["min_length"] == live.settings.password_min_length
        short = "k7#q" * 10
        refused = await anon.post("/api/auth/register", json={
            "email": "pol@example.com", "password": short[:policy["min_length"] - 1],
            "display_name": "Pol"})
        assert refused.status_code == 422 and refused.json()["field"] == "password"
        assert str(policy["min_length"]) in refused.json()["detail"]
        accepted = await anon.post("/api/auth/register", json={
            "email": "pol@example.com", "password": short[:policy["min_length"]],
            "display_name": "Pol"})
        assert accepted.status_code == 201
        too_long = await anon.post("/api/auth/register", json={
            "email": "pol2@example.com", "password": "k7#q" * 40, "display_name": "Pol"})
        assert too_long.status_code == 422
        assert len("k7#q" * 40) > policy["max_length"]
