"""Email values: an outbox entry to send, and a message ready for a mail service."""

from __future__ import annotations

from dataclasses import dataclass, field

ORDER_CONFIRMATION = "order_confirmation"
WAITLIST_OFFER = "waitlist_offer"  # OutboxItem.order_id is then the waiting-list entry id


@dataclass(frozen=True)
class OutboxItem:
    """A claimed outbox row; ``claimed_until`` is the lease that proves the claim."""

    kind: str
    order_id: str
    attempt: int
    claimed_until: int


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None  # set: shown inline (``cid:``) in the HTML body


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    to_name: str
    subject: str
    text: str
    html: str
    message_id: str  # the same for every attempt of one email
    attachments: tuple[Attachment, ...] = field(default=())
