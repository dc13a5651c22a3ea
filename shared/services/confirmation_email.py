"""Order confirmation emails, driven by the ledger's outbox: each confirmed order has one
outbox row, written with the order. ``send_due`` claims due rows (a lease, so two senders
never send one row at once), builds the message (event, venue-local start, address, every
ticket's QR code inline and all tickets as a PDF), hands it to the mail service and marks
the row sent; a failure is retried with backoff. The Message-ID is the same on every
attempt, so even a retry after an unrecorded success is recognisable as the same email.
Waiting-list offers (issue 16) are rows of another kind, sent by the same loop with their
own message (``waitlist_email``); one whose offer ended before it could go is dropped.
"""

from __future__ import annotations

import asyncio
import html
import io
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from shared.errors import DomainError
from shared.mail import WAITLIST_OFFER, Attachment, OutgoingMail
from shared.models import Event, Order, OrderStatus
from shared.ports import CatalogStore, EmailOutbox, Ledger, MailSender, UserRepository
from shared.qr import ticket_qr
from shared.services.door import DoorService
from shared.services.order_documents import PdfRenderer
from shared.ticket_sheets import TicketSheet, venue_time

if TYPE_CHECKING:  # waitlist_email imports money() from here
    from shared.services.waitlist_email import WaitlistOfferMail

log = logging.getLogger(__name__)
LEASE_MS = 120_000  # longer than any one send; an expired lease means the sender died
BACKOFF_MS = (5_000, 30_000, 120_000, 600_000, 1_800_000)  # then every 30 minutes


ZERO_DECIMAL = frozenset({"JPY", "KRW", "ISK", "CLP", "VND", "XAF", "XOF", "HUF", "TWD"})


def money(minor: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        return f"{minor} {currency}"
    return f"{minor / 100:.2f} {currency}"


def _qr_png(code: str) -> bytes:
    out = io.BytesIO()
    ticket_qr(code).save(out, kind="png", scale=6, border=2)
    return out.getvalue()


class ConfirmationEmails:
    def __init__(self, outbox: EmailOutbox, ledger: Ledger, users: UserRepository,
                 catalog: CatalogStore, door: DoorService, render_pdf: PdfRenderer,
                 sender: MailSender, *, public_url: Callable[[], str], mail_domain: str,
                 clock: Callable[[], int], waitlist: WaitlistOfferMail | None = None) -> None:
        self._outbox = outbox
        self._ledger = ledger
        self._users = users
        self._catalog = catalog
        self._door = door
        self._render_pdf = render_pdf
        self._sender = sender
        self._public_url = public_url
        self._domain = mail_domain
        self._clock = clock
        self._waitlist = waitlist

    async def send_due(self, limit: int = 20) -> int:
        """Send what is due; returns how many were sent."""
        sent = 0
        for item in await self._outbox.claim_due(self._clock(), LEASE_MS, limit):
            try:
                if item.kind == WAITLIST_OFFER and self._waitlist is not None:
                    offer = await self._waitlist.message(item.order_id, self._clock())
                    if offer is None:  # the offer ended: an email now would only mislead
                        log.info("email %s for %s dropped: the offer ended", item.kind,
                                 item.order_id)
                        await self._outbox.mark_sent(item, self._clock())
                        continue
                    mail = offer
                else:
                    mail = await self.message(item.order_id)
                await self._sender.send(mail)
            except Exception as exc:  # any failure: keep the row and try again later
                retry = BACKOFF_MS[min(item.attempt, len(BACKOFF_MS)) - 1]
                log.warning("email %s for %s failed (attempt %d): %s", item.kind,
                            item.order_id, item.attempt, exc)
                await self._outbox.mark_failed(item, f"{type(exc).__name__}: {exc}",
                                               self._clock() + retry)
                continue
            await self._outbox.mark_sent(item, self._clock())
            sent += 1
        return sent

    async def message(self, order_id: str) -> OutgoingMail:
        order = await self._ledger.get_order(order_id)
        if order is None or order.status != OrderStatus.CONFIRMED:
            raise DomainError(f"order {order_id} is not confirmed")
        user = await self._users.user_by_id(order.user_id)
        event = await self._catalog.get_event(order.event_id)
        if user is None or event is None:
            raise DomainError(f"order {order_id}: buyer or event missing")
        # Rendering the QR codes and the PDF is milliseconds of pure-Python work: in a
        # thread, the event loop it shares with the API (locally) keeps serving buyers.
        return await asyncio.to_thread(self._compose, order, event, user.email,
                                       user.display_name)

    def _compose(self, order: Order, event: Event, to: str, name: str) -> OutgoingMail:
        v = event.venue
        when = venue_time(event.starts_at, v.timezone)
        where = ", ".join(p for p in (v.name, v.address, v.city, v.country) if p)
        types = {t.id: t.name for t in event.ticket_types}
        link = f"{self._public_url().rstrip('/')}/orders/{order.id}"
        codes = [(t, self._door.code_of(t.id, t.event_id)) for t in order.tickets]
        count = f"{len(codes)} ticket{'s' if len(codes) != 1 else ''}"
        total = money(order.total, order.currency)
        text = "\n".join([
            f"Hello {name},", "",
            f"your order is confirmed: {count} for {event.name}.", "",
            f"When:  {when}", f"Where: {where}", f"Order: {order.id} ({total})", "",
            *[f"- {types.get(t.ticket_type_id, 'Ticket')}: {code}" for t, code in codes], "",
            "Your tickets are attached as a PDF; each QR code admits one person.",
            f"See them any time: {link}", "", "Leap Ticketing"])
        e = html.escape
        tickets_html = "".join(
            f'<div style="display:inline-block;margin:8px;text-align:center">'
            f'<img src="cid:ticket-{i}" width="220" height="220" '
            f'alt="QR code of ticket {i}"><br><strong>{e(types.get(t.ticket_type_id, "Ticket"))}'
            f'</strong><br><code style="font-size:10px;word-break:break-all">{e(code)}</code>'
            f'</div>' for i, (t, code) in enumerate(codes, 1))
        body = (f"<p>Hello {e(name)},</p><p>your order is confirmed: {count} for "
                f"<strong>{e(event.name)}</strong>.</p>"
                f"<p><strong>When:</strong> {e(when)}<br><strong>Where:</strong> {e(where)}<br>"
                f"<strong>Order:</strong> {e(order.id)} ({e(total)})</p>{tickets_html}"
                f'<p>Each QR code admits one person. <a href="{e(link)}">See your tickets</a>'
                f"</p><p>Leap Ticketing</p>")
        pdf = self._render_pdf([TicketSheet(
            event_name=event.name, when=when, venue=where,
            ticket_type=types.get(t.ticket_type_id, "Ticket"), state="valid", code=code,
            reference=t.code, order_id=order.id) for t, code in codes])
        attachments = [Attachment(f"ticket-{i}.png", "image/png", _qr_png(code),
                                  content_id=f"ticket-{i}")
                       for i, (_, code) in enumerate(codes, 1)]
        attachments.append(Attachment("tickets.pdf", "application/pdf", pdf))
        return OutgoingMail(
            to=to, to_name=name, subject=f"Your tickets for {event.name}", text=text,
            html=f"<!doctype html><html><body>{body}</body></html>",
            message_id=f"<order-{order.id}@{self._domain}>", attachments=tuple(attachments))
