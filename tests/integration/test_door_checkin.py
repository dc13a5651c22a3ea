"""Door check-in over real HTTP: organisers grant door staff per event, staff scan signed
codes, a ticket is admitted exactly once however many scanners race, and forged, altered,
refunded and other events' tickets are turned away."""

from __future__ import annotations

import asyncio
import re
import zlib
from typing import Any

import httpx

from shared import ticket_codes
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

PROBLEM = "application/problem+json"


async def buy(client: httpx.AsyncClient, event_id: str, ticket_type_id: str,
              quantity: int) -> dict[str, Any]:
    """Hold, pay and wait for the confirmed order; returns the order body."""
    hold = await client.post(f"/api/events/{event_id}/holds", json={"items": [
        {"ticket_type_id": ticket_type_id, "quantity": quantity}]})
    assert hold.status_code == 201, hold.text
    pay = await client.post(f"/api/holds/{hold.json()['hold_id']}/checkout",
                            json={"payment_token": "tok_visa"})
    assert pay.status_code == 202, pay.text
    body: dict[str, Any] = {}

    async def final() -> bool:
        nonlocal body
        body = (await client.get(f"/api/orders/{pay.json()['order_id']}")).json()
        return bool(body["status"] != "pending")

    await wait_until(final, "final")
    assert body["status"] == "confirmed", body
    return body


async def test_staff_admit_a_ticket_once_and_turn_away_the_rest(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 10})
    other = await make_event(rt, {"GA": 5}, name="Other night")
    admin_token, _ = await make_buyer(rt, role="admin")
    buyer_token, _ = await make_buyer(rt)
    staff_token, staff = await make_buyer(rt)
    async with live.client(buyer_token) as buyer, live.client(admin_token) as admin, \
            live.client(staff_token) as door:
        order = await buy(buyer, event.id, type_id(event, "GA"), 2)
        elsewhere = await buy(buyer, other.id, type_id(other, "GA"), 1)
        ticket = order["tickets"][0]
        assert ticket["state"] == "valid" and ticket_codes.verify(
            rt.door._key, ticket["code"]) is not None

        scan_url = f"/api/staff/events/{event.id}/checkins"
        # Not staff yet: refused, and nothing is checked in.
        refused = await door.post(scan_url, json={"code": ticket["code"]})
        assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
        assert (await buyer.post(scan_url, json={"code": ticket["code"]})).status_code == 403

        granted = await admin.post(f"/api/admin/events/{event.id}/staff",
                                   json={"email": staff.email.upper()})
        assert granted.status_code == 201, granted.text
        assert granted.json()["user_id"] == staff.user_id
        listed = (await admin.get(f"/api/admin/events/{event.id}/staff")).json()["items"]
        assert [m["email"] for m in listed] == [staff.email]
        assert [e["id"] for e in (await door.get("/api/staff/events")).json()["items"]] == [
            event.id]
        # Staff of one event cannot scan at another.
        assert (await door.post(f"/api/staff/events/{other.id}/checkins",
                                json={"code": elsewhere["tickets"][0]["code"]})
                ).status_code == 403

        first = (await door.post(scan_url, json={"code": ticket["code"]})).json()
        assert (first["result"], first["admitted"], first["ticket_id"]) == (
            "admitted", True, ticket["id"])
        assert first["checked_in_by"] == staff.display_name
        again = (await door.post(scan_url, json={"code": ticket["code"]})).json()
        assert (again["result"], again["admitted"]) == ("already_checked_in", False)
        assert (again["checked_in_at"], again["checked_in_by"]) == (
            first["checked_in_at"], staff.display_name)

        wrong = (await door.post(scan_url, json={"code": elsewhere["tickets"][0]["code"]})
                 ).json()
        assert (wrong["result"], wrong["event_id"]) == ("wrong_event", other.id)
        code = order["tickets"][1]["code"]
        altered = code[:-1] + ("A" if code[-1] != "A" else "B")
        for forged in (altered, order["tickets"][1]["reference"],
                       ticket_codes.sign(b"z" * 32, order["tickets"][1]["id"], event.id)):
            answer = (await door.post(scan_url, json={"code": forged})).json()
            assert (answer["result"], answer["admitted"]) == ("forged", False), forged

        bad = await door.post(scan_url, json={"code": ""})
        assert bad.status_code == 422 and bad.json()["field"] == "code"
        assert (await door.get(scan_url)).json() == {"checked_in": 1, "tickets": 2}
        mine = (await buyer.get(f"/api/orders/{order['order_id']}")).json()
        assert [t["state"] for t in mine["tickets"]] == ["checked_in", "valid"]
        page = await assert_order_page_reads_as_three(rt, order["order_id"])
        assert len(page.checked_in) == 1

        # Revoked staff can scan no more.
        assert (await admin.delete(f"/api/admin/events/{event.id}/staff/{staff.user_id}")
                ).status_code == 204
        assert (await door.post(scan_url, json={"code": code})).status_code == 403
    await assert_invariant(rt, event.id)


async def test_twenty_concurrent_scans_admit_exactly_one(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 3})
    admin_token, _ = await make_buyer(rt, role="admin")
    buyer_token, _ = await make_buyer(rt)
    scanners = [await make_buyer(rt) for _ in range(4)]
    async with live.client(buyer_token) as buyer, live.client(admin_token) as admin:
        code = (await buy(buyer, event.id, type_id(event, "GA"), 1))["tickets"][0]["code"]
        for _, staff in scanners:
            assert (await admin.post(f"/api/admin/events/{event.id}/staff",
                                     json={"email": staff.email})).status_code == 201
    clients = [live.client(token) for token, _ in scanners]
    try:
        answers = await asyncio.gather(*(
            clients[i % len(clients)].post(f"/api/staff/events/{event.id}/checkins",
                                           json={"code": code}) for i in range(20)))
    finally:
        for c in clients:
            await c.aclose()
    results = [a.json()["result"] for a in answers]
    assert results.count("admitted") == 1, results
    assert results.count("already_checked_in") == 19, results
    winner = next(a.json() for a in answers if a.json()["admitted"])
    assert {a.json()["checked_in_at"] for a in answers} == {winner["checked_in_at"]}
    await assert_invariant(rt, event.id)


async def test_granting_staff_names_the_bad_field(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 1})
    admin_token, _ = await make_buyer(rt, role="admin")
    buyer_token, _ = await make_buyer(rt)
    async with live.client(admin_token) as admin, live.client(buyer_token) as buyer:
        url = f"/api/admin/events/{event.id}/staff"
        nobody = await admin.post(url, json={"email": "nobody@example.com"})
        assert nobody.status_code == 422 and nobody.json()["field"] == "email"
        assert (await admin.post(url, json={"email": "not an email"})).status_code == 422
        assert (await admin.post("/api/admin/events/no-such-event/staff",
                                 json={"email": "a@example.com"})).status_code == 404
        assert (await buyer.post(url, json={"email": "a@example.com"})).status_code == 403
        assert (await admin.get(url)).json() == {"items": []}


def _pdf_text(pdf: bytes) -> bytes:
    """The text a PDF shows, run together (fpdf2 compresses its content streams, and wraps
    a long code over several lines)."""
    streams = b"".join(zlib.decompress(m.group(1)) for m in re.finditer(
        rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S))
    return b"".join(re.findall(rb"\((.*?)\) Tj", streams))


async def test_my_orders_show_the_event_and_tickets_download_as_pdf_and_ics(
        rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 5}, name="Calendar, Night; \\ Late")
    token, _ = await make_buyer(rt)
    stranger, _ = await make_buyer(rt)
    async with live.client(token) as buyer, live.client(stranger) as other:
        order = await buy(buyer, event.id, type_id(event, "GA"), 2)
        item = (await buyer.get("/api/me/orders")).json()["items"][0]
        assert item["event"] == {
            "id": event.id, "name": event.name, "starts_at": event.starts_at,
            "venue": "Test Hall", "city": "Lisbon", "address": "1 Test St",
            "timezone": event.venue.timezone, "image_url": event.image_url}
        assert [t["state"] for t in item["tickets"]] == ["valid", "valid"]

        pdf = await buyer.get(f"/api/orders/{order['order_id']}/tickets.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF") and pdf.content.count(b"/Type /Page\n") == 2
        text = _pdf_text(pdf.content)
        for t in order["tickets"]:
            assert t["code"].encode() in text and t["reference"].encode() in text

        ics = await buyer.get(f"/api/orders/{order['order_id']}/calendar.ics")
        assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
        lines = ics.text.replace("\r\n ", "").split("\r\n")
        assert "SUMMARY:Calendar\\, Night\\; \\\\ Late" in lines
        start = event.starts_at.replace("-", "").replace(":", "").split(".")[0].rstrip("Z")
        assert f"DTSTART:{start}Z" in lines
        assert all(len(line.encode()) <= 75 for line in ics.text.split("\r\n"))

        # Someone else's order has no documents for them.
        for path in ("tickets.pdf", "calendar.ics"):
            assert (await other.get(f"/api/orders/{order['order_id']}/{path}")
                    ).status_code == 404
    await assert_invariant(rt, event.id)


async def test_a_ticket_of_an_order_no_longer_confirmed_is_turned_away(
        rt: Runtime, live: Live) -> None:
    """Until refunds exist (issue 15), an order set to failed in the ledger stands in for a
    refunded one: its genuine codes are refused as refunded, and its tickets show so."""
    import sqlalchemy as sa

    from shared.adapters.sql_schema import orders

    event = await make_event(rt, {"GA": 3})
    admin_token, _ = await make_buyer(rt, role="admin")
    buyer_token, _ = await make_buyer(rt)
    async with live.client(buyer_token) as buyer, live.client(admin_token) as admin:
        order = await buy(buyer, event.id, type_id(event, "GA"), 1)
        with rt.ledger.engine.begin() as c:
            c.execute(sa.update(orders).where(orders.c.id == order["order_id"])
                      .values(status="failed"))
        answer = (await admin.post(f"/api/staff/events/{event.id}/checkins",
                                   json={"code": order["tickets"][0]["code"]})).json()
        assert (answer["result"], answer["admitted"]) == ("refunded", False)
        again = (await buyer.get(f"/api/orders/{order['order_id']}")).json()
        assert [t["state"] for t in again["tickets"]] == ["refunded"]
        assert (await admin.get(f"/api/staff/events/{event.id}/checkins")).json() == {
            "checked_in": 0, "tickets": 0}
    await assert_invariant(rt, event.id)
