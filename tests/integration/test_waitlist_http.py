"""The waiting list over real HTTP, with the live stack's reconciler, consumers and email
sender and a real SMTP sink: the issue's scenario (A holds the last tickets, B then C join;
A's hold expires -> B is offered and emailed a working link; B does not claim -> C is
offered; C buys; B's entry shows expired), a refund's tickets going to the line, and the
API's answers to bad input. The stack runs on the test's clock, which the test moves past a
hold's or an offer's end; the tests then wait for the states the stack brings about (its
reconciler runs every 0.2 s), never for a time."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.local.mail_sink import MailSink
from shared.runtime import Runtime
from shared.settings import Settings
from tests.integration.test_confirmation_email import inbox
from tests.integration.test_door_checkin import buy
from tests.support import (
    Clock,
    Live,
    assert_invariant,
    make_buyer,
    make_event,
    type_id,
    wait_until,
)


@pytest.fixture
async def timed_live(settings: Settings, rt: Runtime, clock: Clock) -> AsyncIterator[Live]:
    """The stack on the test's clock (the one ``rt`` uses too)."""
    stack = Live(settings, clock=clock).start()
    yield stack
    stack.stop()


async def mine(client: httpx.AsyncClient, event_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/events/{event_id}/waitlist")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def wait_for_status(client: httpx.AsyncClient, event_id: str,
                          status: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def reached() -> bool:
        nonlocal found
        entries = (await mine(client, event_id))["entries"]
        found = entries[0] if entries else {}
        return found.get("status") == status

    await wait_until(reached, f"waiting-list entry {status}")
    return found


async def join(client: httpx.AsyncClient, event_id: str, ticket_type_id: str,
               quantity: int) -> httpx.Response:
    return await client.post(f"/api/events/{event_id}/waitlist",
                             json={"ticket_type_id": ticket_type_id, "quantity": quantity})


async def wait_for_emails(folder: Path, n: int) -> list[EmailMessage]:
    async def arrived() -> bool:
        return len(inbox(folder)) >= n

    await wait_until(arrived, f"{n} emails")
    return inbox(folder)


async def test_offer_goes_to_the_next_buyer_and_passes_on_when_unclaimed(
        rt: Runtime, timed_live: Live, clock: Clock, tmp_path: Path) -> None:
    sink = MailSink(tmp_path / "mail", port=rt.settings.smtp_port).start()
    try:
        event = await make_event(rt, {"GA": 2}, name="Waitlist Night")
        ga = type_id(event, "GA")
        (a_token, _), (b_token, b), (c_token, _) = [await make_buyer(rt) for _ in range(3)]
        async with (timed_live.client(a_token) as a, timed_live.client(b_token) as bc,
                    timed_live.client(c_token) as cc):
            early = await join(bc, event.id, ga, 2)
            assert (early.status_code, early.json()["type"]) == (409,
                                                                  "/problems/tickets-available")
            held = await a.post(f"/api/events/{event.id}/holds",
                                json={"items": [{"ticket_type_id": ga, "quantity": 2}]})
            assert held.status_code == 201, held.text
            joined = await join(bc, event.id, ga, 2)
            assert joined.status_code == 201, joined.text
            assert (joined.json()["status"], joined.json()["place"]) == ("waiting", 1)
            again = await join(bc, event.id, ga, 2)
            assert (again.status_code, again.json()["entry_id"]) == (200,
                                                                     joined.json()["entry_id"])
            c_joined = await join(cc, event.id, ga, 2)
            assert (c_joined.status_code, c_joined.json()["place"]) == (201, 2)
            avail = (await a.get(f"/api/events/{event.id}/availability")).json()
            assert avail["ticket_types"] == [{"id": ga, "available": 0, "waiting": 2}]

            # A's hold expires: B is offered the tickets, and emailed a link to them.
            clock.advance(rt.settings.hold_seconds + 1)
            offer = await wait_for_status(bc, event.id, "offered")
            assert offer["hold_id"] and offer["offer_expires_at"]
            assert (await mine(cc, event.id))["entries"][0]["place"] == 1
            (msg,) = await wait_for_emails(sink.folder, 1)
            assert msg["To"] == f"{b.display_name} <{b.email}>"
            assert msg["Subject"] == "Tickets held for you: Waitlist Night"
            text = msg.get_body(("plain",))
            assert text is not None
            link = re.search(r"https?://\S+/holds/(\S+)", text.get_content())
            assert link is not None and link.group(1) == offer["hold_id"]
            hold = await bc.get(f"/api/holds/{link.group(1)}")
            assert (hold.status_code, hold.json()["status"]) == (200, "held")
            assert [i["quantity"] for i in hold.json()["items"]] == [2]

            # B does not buy: the offer expires and passes to C, who buys.
            clock.advance(rt.settings.waitlist_offer_seconds + 1)
            c_offer = await wait_for_status(cc, event.id, "offered")
            pay = await cc.post(f"/api/holds/{c_offer['hold_id']}/checkout",
                                json={"payment_token": "tok_visa"})
            assert pay.status_code == 202, pay.text
            bought = await wait_for_status(cc, event.id, "purchased")
            assert bought["order_id"] == pay.json()["order_id"]
            order = (await cc.get(f"/api/orders/{bought['order_id']}")).json()
            assert order["status"] == "confirmed" and len(order["tickets"]) == 2
            assert (await mine(bc, event.id))["entries"][0]["status"] == "expired"
            # B's offer, C's offer and C's order confirmation
            subjects = sorted(str(m["Subject"]) for m in await wait_for_emails(sink.folder, 3))
            assert subjects == ["Tickets held for you: Waitlist Night"] * 2 + [
                "Your tickets for Waitlist Night"]
    finally:
        sink.stop()
    await assert_invariant(rt, event.id)


async def test_refunded_tickets_go_to_the_line(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 1})
    ga = type_id(event, "GA")
    admin, _ = await make_buyer(rt, role="admin")
    (a_token, _), (b_token, b) = [await make_buyer(rt) for _ in range(2)]
    async with live.client(a_token) as a, live.client(b_token) as bc:
        order = await buy(a, event.id, ga, 1)
        joined = await bc.post(f"/api/events/{event.id}/waitlist",
                               json={"ticket_type_id": ga, "quantity": 1})
        assert joined.status_code == 201, joined.text
        async with live.client(admin) as ad:
            r = await ad.post(f"/api/admin/orders/{order['order_id']}/refunds", json={})
            assert r.status_code == 200, r.text
        # The refund's restock ran the offer step (read here without one): B holds it now.
        status = await rt.waitlist._store.status(event.id, b.user_id)
        assert [e["status"] for e in status.get("entries")] == ["offered"]
    await assert_invariant(rt, event.id)


async def test_bad_input_and_leaving(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 1})
    ga = type_id(event, "GA")
    (a_token, _), (b_token, _), (c_token, _) = [await make_buyer(rt) for _ in range(3)]
    url = f"/api/events/{event.id}/waitlist"
    async with (live.client() as anon, live.client(a_token) as a, live.client(b_token) as bc,
                live.client(c_token) as cc):
        assert (await anon.post(url, json={"ticket_type_id": ga, "quantity": 1})
                ).status_code == 401
        assert (await anon.get(url)).status_code == 401
        for body, field in (({"ticket_type_id": ga, "quantity": "1"}, "quantity"),
                            ({"ticket_type_id": ga, "quantity": 0}, "quantity"),
                            ({"quantity": 1}, "ticket_type_id"),
                            ({"ticket_type_id": "nope", "quantity": 1}, "ticket_type_id")):
            r = await bc.post(url, json=body)
            assert r.status_code == 422, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["field"] == field
        assert (await mine(bc, event.id))["entries"] == []
        assert (await a.post(f"/api/events/{event.id}/holds", json={"items": [
            {"ticket_type_id": ga, "quantity": 1}]})).status_code == 201
        b_entry = (await bc.post(url, json={"ticket_type_id": ga, "quantity": 1})).json()
        assert (await cc.post(url, json={"ticket_type_id": ga, "quantity": 1})
                ).json()["place"] == 2
        async with live.client((await make_buyer(rt, role="admin"))[0]) as ad:
            board = (await ad.get(f"/api/admin/events/{event.id}/dashboard")).json()
            assert [(t["waiting"], t["held"], t["available"]) for t in board["ticket_types"]
                    ] == [(2, 1, 0)]
        assert (await cc.delete(f"{url}/{b_entry['entry_id']}")).status_code == 404  # not C's
        left = await bc.delete(f"{url}/{b_entry['entry_id']}")
        assert (left.status_code, left.json()["status"]) == (200, "left")
        assert (await mine(cc, event.id))["entries"][0]["place"] == 1
        assert (await bc.delete(f"{url}/{event.id}.nothing")).status_code == 404
    await assert_invariant(rt, event.id)


async def test_a_declined_payment_gives_the_tickets_to_the_line(rt: Runtime,
                                                                live: Live) -> None:
    event = await make_event(rt, {"GA": 2})
    ga = type_id(event, "GA")
    (a_token, _), (b_token, b) = [await make_buyer(rt) for _ in range(2)]
    async with live.client(a_token) as a, live.client(b_token) as bc:
        hold = await a.post(f"/api/events/{event.id}/holds",
                            json={"items": [{"ticket_type_id": ga, "quantity": 2}]})
        assert hold.status_code == 201, hold.text
        assert (await bc.post(f"/api/events/{event.id}/waitlist",
                              json={"ticket_type_id": ga, "quantity": 1})).status_code == 201
        pay = await a.post(f"/api/holds/{hold.json()['hold_id']}/checkout",
                           json={"payment_token": "tok_chargeDeclined"})
        assert pay.status_code == 202, pay.text

        async def offered() -> bool:  # read without an offer step of its own
            status = await rt.waitlist._store.status(event.id, b.user_id)
            return [e["status"] for e in status.get("entries")] == ["offered"]

        await wait_until(offered, "B offered after A's payment was declined")
        order = (await a.get(f"/api/orders/{pay.json()['order_id']}")).json()
        assert order["status"] == "failed"
        # B took one of the two; with nobody waiting any more, the other is on sale again.
        avail = (await bc.get(f"/api/events/{event.id}/availability")).json()
        assert avail["ticket_types"] == [{"id": ga, "available": 1, "waiting": 0}]
    await assert_invariant(rt, event.id)
