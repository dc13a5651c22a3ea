"""Look-alike accounts over real HTTP (issue 17, item 4): an address that only looks
different (NFD instead of NFC, fullwidth letters, an invisible zero-width space) is the same
account: registering it again is 409 email-taken and logging in with it reaches that account.
Control characters (NUL) are refused with 422 on both paths, and names refuse NUL and
bidirectional overrides."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.runtime import Runtime
from shared.text_rules import canonical_email
from tests.support import Live, make_buyer

PASSWORD = "a long enough secret"
PROBLEM = "application/problem+json"

NFC = unicodedata.normalize("NFC", "josé@example.com")
NFD = unicodedata.normalize("NFD", "josé@example.com")
LOOKALIKES = [
    (NFC, NFD),
    ("buyer1@example.com", "\uff42uyer1@example.com"),  # fullwidth b
    ("buyer2@example.com", "buyer2@example.com\u200b"),  # trailing zero-width space
    ("buyer3@example.com", "buy\u200der3@example.com"),  # zero-width joiner inside
    ("buyer4@example.com", "BUYER4@EXAMPLE.COM"),
]


@pytest.mark.parametrize(("original", "lookalike"), LOOKALIKES)
async def test_a_lookalike_address_is_the_same_account(rt: Runtime, live: Live, original: str,
                                                       lookalike: str) -> None:
    assert NFC != NFD
    async with live.client() as client:
        first = await client.post("/api/auth/register", json={
            "email": original, "password": PASSWORD, "display_name": "Original"})
        assert first.status_code == 201, first.text
        again = await client.post("/api/auth/register", json={
            "email": lookalike, "password": "another long secret", "display_name": "Copy"})
        assert (again.status_code, again.headers["content-type"]) == (409, PROBLEM), again.text
        assert again.json()["type"] == "/problems/email-taken"
        login = await client.post("/api/auth/login", json={"email": lookalike,
                                                          "password": PASSWORD})
        assert login.status_code == 200, login.text
        assert login.json()["user"]["user_id"] == first.json()["user_id"]
        assert login.json()["user"]["email"] == canonical_email(original)


@pytest.mark.parametrize("email", ["buyer5@example.com\x00", "buy\x00er5@example.com",
                                   "buyer5@exa\x07mple.com"])
async def test_control_characters_in_an_address_are_refused(rt: Runtime, live: Live,
                                                            email: str) -> None:
    async with live.client() as client:
        assert (await client.post("/api/auth/register", json={
            "email": "buyer5@example.com", "password": PASSWORD, "display_name": "B"})
        ).status_code == 201
        for path, body in (("/api/auth/register", {"email": email, "password": PASSWORD,
                                                   "display_name": "Copy"}),
                           ("/api/auth/login", {"email": email, "password": PASSWORD})):
            refused = await client.post(path, json=body)
            assert (refused.status_code, refused.json()["field"]) == (422, "email"), path


@pytest.mark.parametrize("email", ["someone@localhost", "someone@example", "a..b@example.com",
                                   "someone@exa_mple.com", "someone@example.invalid"])
async def test_addresses_are_checked_by_a_real_validator(rt: Runtime, live: Live,
                                                         email: str) -> None:
    async with live.client() as client:
        refused = await client.post("/api/auth/register", json={
            "email": email, "password": PASSWORD, "display_name": "B"})
    assert (refused.status_code, refused.json()["field"]) == (422, "email"), refused.text


@pytest.mark.parametrize("name", ["Eve\x00", "Eve\u202eevE", "\u2066Eve\u2069", "Eve\nAdmin"])
async def test_display_names_refuse_nul_and_bidi_overrides(rt: Runtime, live: Live,
                                                           name: str) -> None:
    async with live.client() as client:
        refused = await client.post("/api/auth/register", json={
            "email": "eve@example.com", "password": PASSWORD, "display_name": name})
        assert (refused.status_code, refused.json()["field"]) == (422, "display_name")
        login = await client.post("/api/auth/login", json={"email": "eve@example.com",
                                                          "password": PASSWORD})
        assert login.status_code == 401  # nothing was created


async def test_event_and_venue_texts_refuse_nul_and_bidi_overrides(rt: Runtime,
                                                                   live: Live) -> None:
    token, _ = await make_buyer(rt, role="admin")
    good: dict[str, object] = {"name": "Night", "description": "line one\nline two", "starts_at":
            "2027-05-01T20:00:00Z", "venue": {"name": "Hall", "city": "Faro"},
            "ticket_types": [{"name": "GA", "price": 100, "capacity": 5}]}
    cases: list[tuple[dict[str, object], str]] = [
        ({"name": "Night\u202e"}, "name"), ({"description": "a\x00b"}, "description"),
        ({"category": "\u2067music"}, "category"),
        ({"venue": {"name": "Hall", "city": "Fa\x00ro"}}, "venue.city"),
        ({"ticket_types": [{"name": "G\u202dA", "price": 1, "capacity": 1}]},
         "ticket_types[0].name")]
    async with live.client(token) as client:
        for change, field in cases:
            refused = await client.post("/api/admin/events", json={**good, **change})
            assert (refused.status_code, refused.json()["field"]) == (422, field), change
        created = await client.post("/api/admin/events", json=good)
        assert created.status_code == 201, created.text
        event_id = created.json()["id"]
        patch = await client.patch(f"/api/admin/events/{event_id}",
                                   json={"name": "\u202eNight"})
        assert (patch.status_code, patch.json()["field"]) == (422, "name")
        venue = await client.put(f"/api/admin/venues/{created.json()['venue']['id']}",
                                 json={"name": "Hall\x00", "city": "Faro"})
        assert (venue.status_code, venue.json()["field"]) == (422, "name")
        assert (await client.get(f"/api/events/{event_id}")).json()["name"] == "Night"


@given(st.text())
def test_the_canonical_form_is_a_fixed_point(text: str) -> None:
    try:
        once = canonical_email(text)
    except Exception:
        return  # refused (control characters): nothing to compare
    assert canonical_email(once) == once
