"""The waiting-list offer email: tickets are held for the buyer until a time (in the
venue's zone), with a link to that hold's checkout page. Composed from the outbox row,
which carries the offer as it was made, so the sender never needs Redis."""

from __future__ import annotations

import html
from collections.abc import Callable

from shared.errors import DomainError
from shared.mail import OutgoingMail
from shared.models import Event, WaitlistOfferNotice, iso
from shared.ports import CatalogStore, UserRepository, WaitlistNotices
from shared.services.confirmation_email import money
from shared.ticket_sheets import venue_time


class WaitlistOfferMail:
    def __init__(self, notices: WaitlistNotices, users: UserRepository, catalog: CatalogStore,
                 *, public_url: Callable[[], str], mail_domain: str) -> None:
        self._notices = notices
        self._users = users
        self._catalog = catalog
        self._public_url = public_url
        self._domain = mail_domain

    async def message(self, entry_id: str, now: int) -> OutgoingMail | None:
        """The email of an offer; None when the offer ended before it could be sent."""
        notice = await self._notices.waitlist_offer(entry_id)
        if notice is None:
            raise DomainError(f"waiting-list offer {entry_id} is not in the outbox")
        if now >= notice.offer_expires_at:
            return None
        user = await self._users.user_by_id(notice.user_id)
        event = await self._catalog.get_event(notice.event_id)
        if user is None or event is None:
            raise DomainError(f"waiting-list offer {entry_id}: buyer or event missing")
        return self.compose(notice, event, user.email, user.display_name)

    def compose(self, n: WaitlistOfferNotice, event: Event, to: str,
                name: str) -> OutgoingMail:
        v = event.venue
        until = venue_time(iso(n.offer_expires_at), v.timezone)
        when = venue_time(event.starts_at, v.timezone)
        kind = next((t.name for t in event.ticket_types if t.id == n.ticket_type_id), "Ticket")
        count = f"{n.quantity} {kind} ticket{'s' if n.quantity != 1 else ''}"
        total = money(n.total, n.currency)
        link = f"{self._public_url().rstrip('/')}/holds/{n.hold_id}"
        text = "\n".join([
            f"Hello {name},", "",
            f"tickets came back for {event.name}, and you are next on the waiting list:",
            f"{count} ({total}) are held for you until {until}.", "",
            f"Buy them now: {link}", "",
            f"When:  {when}", f"Where: {v.name}, {v.city}", "",
            "If you do not buy them by then, they go to the next person in line.", "",
            "Leap Ticketing"])
        e = html.escape
        body = (f"<p>Hello {e(name)},</p><p>tickets came back for <strong>{e(event.name)}"
                f"</strong>, and you are next on the waiting list: <strong>{e(count)}</strong>"
                f" ({e(total)}) are held for you until <strong>{e(until)}</strong>.</p>"
                f'<p><a href="{e(link)}">Buy them now</a></p>'
                f"<p><strong>When:</strong> {e(when)}<br><strong>Where:</strong> "
                f"{e(v.name)}, {e(v.city)}</p><p>If you do not buy them by then, they go to "
                f"the next person in line.</p><p>Leap Ticketing</p>")
        return OutgoingMail(
            to=to, to_name=name, subject=f"Tickets held for you: {event.name}", text=text,
            html=f"<!doctype html><html><body>{body}</body></html>",
            message_id=f"<waitlist-{n.entry_id}@{self._domain}>")
