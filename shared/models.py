"""Domain values: holds, orders, tickets, the payments message, users and events.

Times are integer epoch milliseconds inside the domain (what the Lua scripts see) and ISO
8601 UTC strings at the HTTP edge. Money is integer minor units plus an ISO 4217 code.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def now_ms() -> int:
    """Epoch milliseconds (``time_ns``: a datetime per call was 6 % of a hold's CPU)."""
    return time.time_ns() // 1_000_000


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


class HoldStatus(StrEnum):
    HELD = "held"
    CHECKOUT = "checkout"
    COMMITTED = "committed"
    RELEASED = "released"


ACTIVE_HOLD = frozenset({HoldStatus.HELD, HoldStatus.CHECKOUT})


class OrderStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    FAILED = "failed"


class FailReason(StrEnum):
    PAYMENT_DECLINED = "payment_declined"
    PAYMENT_ERROR = "payment_error"
    PAYMENT_TIMEOUT = "payment_timeout"
    SOLD_OUT = "sold_out"
    HOLD_EXPIRED = "hold_expired"


@dataclass(frozen=True)
class LineItem:
    ticket_type_id: str
    quantity: int
    unit_price: int = 0


@dataclass(frozen=True)
class Hold:
    id: str
    event_id: str
    user_id: str
    status: HoldStatus
    items: tuple[LineItem, ...]
    total: int
    currency: str
    created_at: int
    expires_at: int
    order_id: str | None = None
    ended_at: int | None = None
    end_reason: str | None = None
    promo_code: str | None = None
    discount: int = 0

    @property
    def quantity(self) -> int:
        return sum(i.quantity for i in self.items)

    @classmethod
    def from_record(cls, event_id: str, raw: str | bytes | dict[str, Any]) -> Hold:
        """The record the Lua scripts keep in ``holds:{E}`` (JSON, or already decoded)."""
        r = raw if isinstance(raw, dict) else json.loads(raw)
        return cls(
            id=r["id"],
            event_id=event_id,
            user_id=r["user_id"],
            status=HoldStatus(r["status"]),
            items=tuple(
                LineItem(i["ticket_type_id"], int(i["quantity"]), int(i["unit_price"]))
                for i in r["items"]
            ),
            total=int(r["total"]),
            currency=r["currency"],
            created_at=int(r["created_at"]),
            expires_at=int(r["expires_at"]),
            order_id=r.get("order_id") or None,
            ended_at=int(r["ended_at"]) if r.get("ended_at") else None,
            end_reason=r.get("end_reason") or None,
            promo_code=r.get("promo") or None,
            discount=int(r.get("discount") or 0),
        )


@dataclass(frozen=True)
class PaymentRequest:
    """The payments-queue message: everything finalize needs, nothing it must look up."""

    order_id: str
    hold_id: str
    event_id: str
    user_id: str
    items: tuple[LineItem, ...]
    amount: int
    currency: str
    payment_token: str
    created_at: int = 0
    trace: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        body = asdict(self)
        body["items"] = [asdict(i) for i in self.items]
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> PaymentRequest:
        b: dict[str, Any] = json.loads(raw)
        return cls(
            order_id=str(b["order_id"]),
            hold_id=str(b["hold_id"]),
            event_id=str(b["event_id"]),
            user_id=str(b["user_id"]),
            items=tuple(
                LineItem(str(i["ticket_type_id"]), int(i["quantity"]), int(i["unit_price"]))
                for i in b["items"]
            ),
            amount=int(b["amount"]),
            currency=str(b["currency"]),
            payment_token=str(b["payment_token"]),
            created_at=int(b.get("created_at", 0)),
            trace={str(k): str(v) for k, v in dict(b.get("trace") or {}).items()},
        )


@dataclass(frozen=True)
class Ticket:
    id: str
    order_id: str
    event_id: str
    ticket_type_id: str
    code: str
    seat_id: str | None = None
    status: str = "valid"  # "refunded" once the organiser refunded it (no longer valid)


@dataclass(frozen=True)
class Order:
    id: str
    hold_id: str
    event_id: str
    user_id: str
    status: OrderStatus
    total: int
    currency: str
    created_at: int
    reason: str | None = None
    tickets: tuple[Ticket, ...] = ()
    refunded: int = 0  # minor units returned to the buyer so far


@dataclass(frozen=True)
class OrderPage:
    """An order as its buyer's page shows it: refunds applied (voided tickets marked, the
    amount returned) and its admitted tickets' check-in times (ticket id -> epoch ms)."""

    order: Order
    checked_in: dict[str, int] = field(default_factory=dict)

    @property
    def status(self) -> OrderStatus:
        return self.order.status


@dataclass(frozen=True)
class Charge:
    id: str
    idempotency_key: str
    amount: int
    currency: str
    refunded: bool = False


@dataclass(frozen=True)
class User:
    id: str
    email: str
    display_name: str
    role: str
    password_hash: str
    created_at: int


@dataclass(frozen=True)
class Principal:
    """Who is calling: what a verified session token resolves to."""

    user_id: str
    email: str
    display_name: str
    role: str
    expires_at: int

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class InventoryLine:
    """A ledger row of ``ticket_inventory``."""

    event_id: str
    ticket_type_id: str
    capacity: int
    sold: int
    # Issue 12 (degraded mode): tickets in active SQL holds, tickets ever taken by SQL holds
    # and not given back (held + sold through them), and Redis's last reported held count.
    held_sql: int = 0
    taken_sql: int = 0
    held_redis: int = 0


@dataclass(frozen=True)
class TicketType:
    id: str
    name: str
    price: int
    currency: str
    capacity: int


@dataclass(frozen=True)
class Offer:
    """A promo code of an event: ``percent`` off the hold's total, or ``amount`` (minor units)
    off it; valid in [valid_from, valid_to) (epoch ms, 0 = open); ``max_uses`` 0 = unlimited."""

    code: str
    kind: str
    value: int
    valid_from: int = 0
    valid_to: int = 0
    max_uses: int = 0
    active: bool = True


@dataclass(frozen=True)
class Venue:
    id: str
    name: str
    city: str
    address: str = ""
    country: str = ""
    timezone: str = "UTC"  # IANA zone the venue's times are shown in (shared/zones.py)


@dataclass(frozen=True)
class QueueSettings:
    """An event's virtual waiting room as the organiser set it (issue 14). While ``enabled``,
    a hold needs an admission token; ``opens_at`` (epoch ms) ends the pre-queue."""

    enabled: bool
    opens_at: int
    admit_per_minute: int


@dataclass(frozen=True)
class Event:
    id: str
    name: str
    description: str
    category: str
    starts_at: str
    venue: Venue
    ticket_types: tuple[TicketType, ...]
    currency: str
    per_user_limit: int
    status: str = "on_sale"
    image_url: str = ""
    created_at: int = 0
    updated_at: int = 0
    offers: tuple[Offer, ...] = ()
    queue: QueueSettings | None = None
    etag: str = ""  # the store's version of the document; not part of it

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc.pop("etag")
        doc["ticket_types"] = [asdict(t) for t in self.ticket_types]
        doc["offers"] = [asdict(o) for o in self.offers]
        if self.queue is None:
            doc.pop("queue")
        return doc

    @classmethod
    def from_document(cls, d: dict[str, Any], etag: str = "") -> Event:
        v = d["venue"]
        return cls(
            id=d["id"],
            name=d["name"],
            description=d.get("description", ""),
            category=d.get("category", ""),
            starts_at=d["starts_at"],
            venue=Venue(
                id=v["id"], name=v["name"], city=v["city"],
                address=v.get("address", ""), country=v.get("country", ""),
                timezone=v.get("timezone") or "UTC",
            ),
            ticket_types=tuple(
                TicketType(t["id"], t["name"], int(t["price"]), t["currency"], int(t["capacity"]))
                for t in d["ticket_types"]
            ),
            currency=d["currency"],
            per_user_limit=int(d["per_user_limit"]),
            status=d.get("status", "on_sale"),
            image_url=d.get("image_url", ""),
            created_at=int(d.get("created_at", 0)),
            updated_at=int(d.get("updated_at", 0)),
            offers=tuple(Offer(**o) for o in d.get("offers") or ()),
            queue=QueueSettings(bool(d["queue"]["enabled"]), int(d["queue"]["opens_at"]),
                                int(d["queue"]["admit_per_minute"])) if d.get("queue") else None,
            etag=etag,
        )


ACTIVE_WAITLIST = frozenset({"waiting", "offered"})


@dataclass(frozen=True)
class WaitlistEntry:
    """A buyer's place on an event's waiting list for one ticket type.

    ``status``: waiting (``place`` is 1-based among the type's waiting entries), offered
    (``hold_id`` is held for them until ``offer_expires_at``), then, derived from that hold:
    purchased, expired or declined; or left (they left) or lapsed (no room under the
    per-user limit when their turn came)."""

    id: str
    event_id: str
    user_id: str
    ticket_type_id: str
    quantity: int
    joined_at: int
    status: str
    place: int | None = None
    hold_id: str | None = None
    offer_expires_at: int | None = None
    order_id: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_WAITLIST

    @classmethod
    def from_view(cls, event_id: str, v: dict[str, Any]) -> WaitlistEntry:
        """An entry as the waiting-list scripts answer it (``includes/waitlist.lua``)."""
        return cls(
            id=str(v["id"]), event_id=event_id, user_id=str(v["user_id"]),
            ticket_type_id=str(v["ticket_type_id"]), quantity=int(v["quantity"]),
            joined_at=int(v["joined_at"]), status=str(v["status"]),
            place=int(v["place"]) if v.get("place") is not None else None,
            hold_id=str(v["hold_id"]) if v.get("hold_id") else None,
            offer_expires_at=(int(v["offer_expires_at"]) if v.get("offer_expires_at")
                              else None),
            order_id=str(v["order_id"]) if v.get("order_id") else None,
        )


@dataclass(frozen=True)
class WaitlistOfferNotice:
    """What the offer email says: an offer made from the waiting list, as a hold."""

    entry_id: str
    event_id: str
    user_id: str
    hold_id: str
    ticket_type_id: str
    quantity: int
    unit_price: int
    total: int
    currency: str
    offer_expires_at: int
