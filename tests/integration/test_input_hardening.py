"""Hostile and unlucky input over real HTTP (issue 17, items 1 and 5): out-of-range dates,
numbers that are not JSON numbers, control characters in searches, redirects built from the
Host header, and oversized URLs and headers. Each answers a 4xx problem+json naming the
field (or the limit), and nothing changes."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from shared.api.guard import MAX_HEADER_BYTES, MAX_URL_BYTES, relative_location
from shared.runtime import Runtime
from tests.support import Live, assert_invariant, make_buyer, make_event, type_id

PROBLEM = "application/problem+json"
EXTREMES = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59.999999+00:00", "0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z",
            "2200-01-01T00:00:00Z", "2199-12-31T23:59:59-00:01"]
EVENT = {"name": "Night", "starts_at": "2027-05-01T20:00:00Z",
         "venue": {"name": "Hall", "city": "Faro"},
         "ticket_types": [{"name": "GA", "price": 100, "capacity": 5}]}


@pytest.mark.parametrize("value", EXTREMES)
async def test_out_of_range_dates_answer_422_naming_the_field(rt: Runtime, live: Live,
                                                              value: str) -> None:
    token, _ = await make_buyer(rt, role="admin")
    async with live.client(token) as client:
        for name in ("from", "to"):
            listed = await client.get("/api/events", params={name: value})
            assert (listed.status_code, listed.headers["content-type"]) == (422, PROBLEM)
            assert listed.json()["field"] == name
        created = await client.post("/api/admin/events", json={**EVENT, "starts_at": value})
        assert (created.status_code, created.json()["field"]) == (422, "starts_at")
        event = (await client.post("/api/admin/events", json=EVENT)).json()
        patched = await client.patch(f"/api/admin/events/{event['id']}",
                                     json={"starts_at": value})
        assert (patched.status_code, patched.json()["field"]) == (422, "starts_at")
        for name in ("valid_from", "valid_to"):
            offer = await client.put(f"/api/admin/events/{event['id']}/offers/SPRING", json={
                "code": "SPRING", "kind": "percent", "value": 10, name: value})
            assert (offer.status_code, offer.json()["field"]) == (422, name)
        after = (await client.get(f"/api/events/{event['id']}")).json()
        assert after["starts_at"] == "2027-05-01T20:00:00Z"
        offers = await client.get(f"/api/admin/events/{event['id']}/offers")
        assert offers.json()["items"] == []


async def test_dates_at_the_edges_of_the_range_and_with_offsets_are_accepted(
        rt: Runtime, live: Live) -> None:
    token, _ = await make_buyer(rt, role="admin")
    async with live.client(token) as client:
        for value, stored in (("2000-01-01T00:00:00Z", "2000-01-01T00:00:00Z"),
                              ("2200-01-01T13:59:59+14:00", "2199-12-31T23:59:59Z"),
                              ("2027-05-01T20:00:00", "2027-05-01T20:00:00Z")):
            created = await client.post("/api/admin/events", json={**EVENT, "starts_at": value})
            assert created.status_code == 201, created.text
            assert created.json()["starts_at"] == stored
        last = await client.get("/api/events", params={"from": "2200-01-01T13:59:59+14:00"})
        assert [e["starts_at"] for e in last.json()["items"]] == ["2199-12-31T23:59:59Z"]
        first = await client.get("/api/events", params={"to": "1999-12-31T10:00:01-14:00"})
        assert [e["starts_at"] for e in first.json()["items"]] == ["2000-01-01T00:00:00Z"]
        numeric = await client.post("/api/admin/events", json={**EVENT, "starts_at": 1.8e9})
        assert (numeric.status_code, numeric.json()["field"]) == (422, "starts_at")


@pytest.mark.parametrize("quantity", ["1", True, 2.0, 1.5, None, [1]])
async def test_quantities_must_be_json_integers(rt: Runtime, live: Live,
                                                quantity: object) -> None:
    event = await make_event(rt, {"GA": 10})
    ga = type_id(event, "GA")
    token, _ = await make_buyer(rt)
    async with live.client(token) as client:
        refused = await client.post(f"/api/events/{event.id}/holds", json={
            "items": [{"ticket_type_id": ga, "quantity": quantity}]})
    assert (refused.status_code, refused.json()["field"]) == (422, "items[0].quantity")
    assert await rt.store.availability(event.id) == {ga: 10}
    await assert_invariant(rt, event.id)


async def test_organiser_numbers_and_flags_are_strict_too(rt: Runtime, live: Live) -> None:
    token, _ = await make_buyer(rt, role="admin")
    change: Mapping[str, object]
    async with live.client(token) as client:
        for change, field in (({"per_user_limit": "4"}, "per_user_limit"),
                              ({"ticket_types": [{"name": "GA", "price": "100",
                                                  "capacity": 5}]}, "ticket_types[0].price"),
                              ({"ticket_types": [{"name": "GA", "price": 100,
                                                  "capacity": True}]},
                               "ticket_types[0].capacity")):
            refused = await client.post("/api/admin/events", json={**EVENT, **change})
            assert (refused.status_code, refused.json()["field"]) == (422, field)
        event = (await client.post("/api/admin/events", json=EVENT)).json()
        for change, field in (({"value": 10.0}, "value"), ({"max_uses": "3"}, "max_uses"),
                              ({"active": "true"}, "active"), ({"active": 1}, "active")):
            offer = await client.put(f"/api/admin/events/{event['id']}/offers/SPRING", json={
                "code": "SPRING", "kind": "percent", "value": 10, **change})
            assert (offer.status_code, offer.json()["field"]) == (422, field), change
        patched = await client.patch(f"/api/admin/events/{event['id']}", json={
            "ticket_types": [{"id": event["ticket_types"][0]["id"], "capacity": 9.0}]})
        assert (patched.status_code, patched.json()["field"]) == (
            422, "ticket_types[0].capacity")
        assert (await client.get(f"/api/events/{event['id']}")).json()[
            "ticket_types"][0]["capacity"] == 5


@pytest.mark.parametrize(("name", "value"), [("q", "\x00"), ("q", "a\x00"), ("city", "\x00"),
                                             ("category", "\x1f"), ("q", "\u202e")])
async def test_control_characters_in_a_search_are_refused_not_matched(
        rt: Runtime, live: Live, name: str, value: str) -> None:
    await make_event(rt, {"GA": 1}, name="Jazz night")
    async with live.client() as client:
        refused = await client.get("/api/events", params={name: value})
        assert (refused.status_code, refused.json()["field"]) == (422, name)
        literal = await client.get("/api/events", params={"q": "%"})
        assert literal.json()["items"] == []  # wildcards are literal too
        assert len((await client.get("/api/events", params={"q": "jazz"})).json()["items"]) == 1


async def test_redirects_are_relative_whatever_the_host_header(rt: Runtime,
                                                               live: Live) -> None:
    async with live.client() as client:
        for host in ("evil.example", "evil.example:8443"):
            moved = await client.get("/api/events/?limit=2", headers={"host": host})
            assert moved.status_code == 307
            assert moved.headers["location"] == "/api/events?limit=2"
        followed = await client.get("/api/events/", follow_redirects=True)
        assert followed.status_code == 200 and followed.url.path == "/api/events"


def test_a_relative_location_cannot_name_another_host() -> None:
    for absolute, relative in ((b"http://evil.example/api/events", b"/api/events"),
                               (b"http://evil.example//evil.example/x", b"/evil.example/x"),
                               (b"https://h/\\\\evil.example?a=1", b"/evil.example?a=1"),
                               (b"//evil.example/x", b"/x"), (b"/\t/evil.example", b"/"),
                               (b"/api/holds/1", b"/api/holds/1")):
        assert relative_location(absolute) == relative, absolute


async def test_oversized_urls_and_headers_answer_problem_json(rt: Runtime, live: Live) -> None:
    async with live.client() as client:
        long_url = await client.get("/api/events", params={"q": "x" * (MAX_URL_BYTES + 1)})
        assert (long_url.status_code, long_url.headers["content-type"]) == (414, PROBLEM)
        assert long_url.json()["type"] == "/problems/uri-too-long"
        long_path = await client.get("/api/events/" + "e" * (MAX_URL_BYTES + 1))
        assert (long_path.status_code, long_path.headers["content-type"]) == (414, PROBLEM)
        many = {f"x-filler-{i}": "v" * 1000 for i in range(MAX_HEADER_BYTES // 1000 + 1)}
        big_headers = await client.get("/api/events", headers=many)
        assert (big_headers.status_code, big_headers.headers["content-type"]) == (431, PROBLEM)
        assert "x-content-type-options" in big_headers.headers
        assert (await client.get("/api/health")).status_code == 200  # still serving


async def test_many_oversized_requests_at_once_leave_the_server_serving(
        rt: Runtime, live: Live) -> None:
    async with live.client() as client:
        answers = await asyncio.gather(*(
            client.get("/api/events", params={"q": "x" * (MAX_URL_BYTES + i)})
            for i in range(1, 30)))
        assert {a.status_code for a in answers} == {414}
        assert (await client.get("/api/health")).status_code == 200
