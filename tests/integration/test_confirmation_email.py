"""Order confirmation emails over real HTTP and a real SMTP sink: a purchase produces exactly
one email, with the event, the venue-local time, the address and every ticket's valid signed
code (inline QR images and a PDF); the outbox never sends it twice, and a failed send is
retried until the mail service takes it."""

from __future__ import annotations

import asyncio
import email
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from shared import ticket_codes
from shared.local.mail_sink import MailSink
from shared.runtime import Runtime
from shared.ticket_sheets import venue_time
from tests.integration.test_door_checkin import buy
from tests.support import Live, assert_invariant, make_buyer, make_event, type_id, wait_until


def inbox(folder: Path) -> list[EmailMessage]:
    msgs = []
    for path in sorted(folder.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=default)
        assert isinstance(msg, EmailMessage)
        msgs.append(msg)
    return msgs


async def test_a_purchase_sends_exactly_one_email_with_valid_codes(
        rt: Runtime, live: Live, tmp_path: Path) -> None:
    sink = MailSink(tmp_path / "mail", port=rt.settings.smtp_port).start()
    try:
        event = await make_event(rt, {"GA": 5, "VIP": 2}, name="Mail Night")
        token, buyer = await make_buyer(rt)
        async with live.client(token) as client:
            order = await buy(client, event.id, type_id(event, "GA"), 2)

        async def delivered() -> bool:
            return len(inbox(sink.folder)) >= 1

        await wait_until(delivered, "delivered")
        # More sender passes, concurrently, find nothing left to send.
        assert await asyncio.gather(*(rt.emails.send_due() for _ in range(5))) == [0] * 5
        (msg,) = inbox(sink.folder)
        assert msg["To"] == f"{buyer.display_name} <{buyer.email}>"
        assert msg["Subject"] == "Your tickets for Mail Night"
        assert msg["Message-ID"] == f"<order-{order['order_id']}@leap.example>"
        body = msg.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert venue_time(event.starts_at, event.venue.timezone) in text
        assert "Test Hall, 1 Test St, Lisbon, Portugal" in text
        key = rt.door._key
        for t in order["tickets"]:
            assert t["code"] in text
            assert ticket_codes.verify(key, t["code"]) == ticket_codes.SignedTicket(
                t["id"], event.id)
        parts = {p.get_filename(): p.get_content_type() for p in msg.walk()
                 if p.get_filename()}
        assert parts == {"ticket-1.png": "image/png", "ticket-2.png": "image/png",
                         "tickets.pdf": "application/pdf"}
        html = msg.get_body(("html",))
        assert html is not None and 'src="cid:ticket-1"' in html.get_content()
        assert await rt.emails._outbox.sent_at(  # type: ignore[attr-defined]
            "order_confirmation", order["order_id"]) is not None
    finally:
        sink.stop()
    await assert_invariant(rt, event.id)


async def test_a_failed_send_is_retried_and_then_delivered_once(
        rt: Runtime, live: Live, tmp_path: Path) -> None:
    """No SMTP server at first: the send fails and waits; once the sink is up and the retry
    is due, the email arrives once."""
    event = await make_event(rt, {"GA": 5})
    token, _ = await make_buyer(rt)
    async with live.client(token) as client:
        order = await buy(client, event.id, type_id(event, "GA"), 1)
    outbox = rt.emails._outbox

    async def failed_once() -> bool:
        row = await outbox.sent_at(  # type: ignore[attr-defined]
            "order_confirmation", order["order_id"])
        attempts = await asyncio.to_thread(_attempts, rt, order["order_id"])
        return row is None and attempts >= 1

    await wait_until(failed_once, "failed once")
    sink = MailSink(tmp_path / "mail", port=rt.settings.smtp_port).start()
    try:
        # The retry is due after the backoff; move this runtime's clock past it.
        rt.clock.advance(60)  # type: ignore[attr-defined]  # the test's Clock

        async def delivered() -> bool:
            await rt.emails.send_due()
            return len(inbox(sink.folder)) >= 1

        await wait_until(delivered, "delivered")
        assert await rt.emails.send_due() == 0
        assert len(inbox(sink.folder)) == 1
    finally:
        sink.stop()


def _attempts(rt: Runtime, order_id: str) -> int:
    import sqlalchemy as sa

    from shared.adapters.sql_schema import email_outbox as o

    with rt.ledger.engine.begin() as c:
        return int(c.execute(sa.select(o.c.attempts).where(o.c.order_id == order_id))
                   .scalar_one())
