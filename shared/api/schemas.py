"""Request and response bodies of the API. Requests are strict: unknown fields are refused,
numbers and booleans must be JSON numbers and booleans (``"1"``, ``true`` or ``2.0`` are not
a quantity), dates are ISO 8601 strings within ``EARLIEST``..``LATEST``, and texts people
read refuse control and bidirectional-override characters (see ``shared/text_rules.py``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from shared.models import Event, Hold, Order, OrderStatus, Venue, WaitlistEntry, iso
from shared.text_rules import text_problem
from shared.zones import DEFAULT_TIMEZONE, is_timezone


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# Every date the API accepts lies in this range (an event's start, an offer's validity, a
# search's from/to); outside it is a 422 naming the field, never an overflow further in.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC)
DATE_RANGE = f"{EARLIEST.isoformat()} and {LATEST.isoformat()}".replace("+00:00", "Z")
DATE_DOC = f"ISO 8601 date-time between {DATE_RANGE} (without an offset: UTC)"


def _date_text(value: Any) -> Any:
    if not isinstance(value, str | datetime):
        raise ValueError("give the date as an ISO 8601 string, e.g. 2027-06-01T20:00:00Z")
    return value


def _in_range(value: datetime) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        utc: datetime | None = aware.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-14:00 is past year 9999 in UTC
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise ValueError(f"must be between {DATE_RANGE}")
    return utc


# An ISO 8601 date-time in range (without an offset: UTC), as a UTC datetime.
DateTime = Annotated[datetime, BeforeValidator(_date_text), AfterValidator(_in_range)]


def _line(value: str) -> str:
    if problem := text_problem(value):
        raise ValueError(problem)
    return value


def _paragraphs(value: str) -> str:
    if problem := text_problem(value, multiline=True):
        raise ValueError(problem)
    return value


# A one-line text people read (names, cities, search words) and a multi-line one.
Line = Annotated[str, AfterValidator(_line)]
Paragraphs = Annotated[str, AfterValidator(_paragraphs)]


EMAIL_PATTERN = r"^\s*[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}\s*$"


class RegisterIn(Strict):
    email: Annotated[str, Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN)]
    # The password policy (length, common passwords, ...) is the service's, which names the rule.
    password: Annotated[str, Field(min_length=1, max_length=128)]
    display_name: Annotated[Line, Field(min_length=1, max_length=100)]


class LoginIn(Strict):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=128)]


class PasswordChangeIn(Strict):
    current_password: Annotated[str, Field(min_length=1, max_length=128)]
    new_password: Annotated[str, Field(min_length=1, max_length=128)]


class AuditEntryOut(BaseModel):
    id: str
    at: str
    actor_id: str
    action: str
    target: str
    detail: dict[str, object]


class AuditOut(BaseModel):
    items: list[AuditEntryOut]


class UserOut(BaseModel):
    user_id: str
    email: str
    display_name: str
    role: str


class RegisterOut(BaseModel):
    user_id: str


class LoginOut(BaseModel):
    token: str
    expires_at: str
    user: UserOut


class HoldItemIn(Strict):
    ticket_type_id: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=1, le=50, strict=True)]


PROMO_PATTERN = r"^[A-Za-z0-9-]{3,32}$"


class HoldIn(Strict):
    items: Annotated[list[HoldItemIn], Field(min_length=1, max_length=10)]
    promo_code: Annotated[str | None, Field(pattern=PROMO_PATTERN)] = None


class OfferIn(Strict):
    code: Annotated[str, Field(pattern=PROMO_PATTERN)]
    kind: Literal["percent", "amount"]
    value: Annotated[int, Field(ge=1, le=100_000_000, strict=True,
                                description="percent, or minor units")]
    valid_from: Annotated[DateTime | None, Field(description=DATE_DOC)] = None
    valid_to: Annotated[DateTime | None, Field(description=DATE_DOC)] = None
    max_uses: Annotated[int, Field(ge=0, le=10_000_000, strict=True)] = 0
    active: Annotated[bool, Field(strict=True)] = True


class OfferOut(BaseModel):
    code: str
    kind: str
    value: int
    valid_from: str | None
    valid_to: str | None
    max_uses: int
    active: bool
    uses: int


class OffersOut(BaseModel):
    items: list[OfferOut]


class CheckoutIn(Strict):
    payment_token: Annotated[str, Field(min_length=1, max_length=200)]


class LineOut(BaseModel):
    ticket_type_id: str
    quantity: int
    unit_price: int


class HoldOut(BaseModel):
    hold_id: str
    event_id: str
    status: str
    items: list[LineOut]
    total: int
    currency: str
    expires_at: str
    order_id: str | None = None
    promo_code: str | None = None
    discount: int = 0

    @classmethod
    def of(cls, h: Hold) -> HoldOut:
        return cls(hold_id=h.id, event_id=h.event_id, status=h.status.value,
                   items=[LineOut(ticket_type_id=i.ticket_type_id, quantity=i.quantity,
                                  unit_price=i.unit_price) for i in h.items],
                   total=h.total, currency=h.currency, expires_at=iso(h.expires_at),
                   order_id=h.order_id, promo_code=h.promo_code, discount=h.discount)


class CheckoutOut(BaseModel):
    order_id: str
    status: str


class TicketOut(BaseModel):
    id: str
    ticket_type_id: str
    code: str = Field(description="the signed code the QR code carries (checked at the door)")
    reference: str = Field(description="short reference printed on the ticket")
    state: Literal["valid", "checked_in", "refunded"]
    checked_in_at: str | None = None
    seat_id: str | None = None
    status: str = "valid"  # "refunded": the organiser refunded it; it no longer admits


class OrderEventOut(BaseModel):
    """The event an order is for, as "My orders" lists it."""

    id: str
    name: str
    starts_at: str
    venue: str
    city: str
    address: str
    timezone: str
    image_url: str

    @classmethod
    def of(cls, e: Event) -> OrderEventOut:
        return cls(id=e.id, name=e.name, starts_at=e.starts_at, venue=e.venue.name,
                   city=e.venue.city, address=e.venue.address, timezone=e.venue.timezone,
                   image_url=e.image_url)


class OrderOut(BaseModel):
    order_id: str
    event_id: str
    hold_id: str
    status: str
    reason: str | None
    tickets: list[TicketOut]
    total: int
    currency: str
    created_at: str
    event: OrderEventOut | None = None
    refunded: int = 0  # minor units returned to the buyer

    @classmethod
    def of(cls, o: Order, code_of: Callable[[str, str], str],
           checked_in: Mapping[str, int] | None = None, event: Event | None = None
           ) -> OrderOut:
        """``code_of(ticket id, event id)`` signs a ticket's code; ``checked_in`` maps the
        admitted tickets to their check-in times."""
        admitted = checked_in or {}

        def state(ticket_id: str, status: str) -> Literal["valid", "checked_in", "refunded"]:
            # A ticket of an order that is no longer confirmed, or one the organiser
            # refunded on its own, no longer admits anyone.
            if o.status != OrderStatus.CONFIRMED or status == "refunded":
                return "refunded"
            return "checked_in" if ticket_id in admitted else "valid"

        return cls(order_id=o.id, event_id=o.event_id, hold_id=o.hold_id,
                   status=o.status.value, reason=o.reason,
                   tickets=[TicketOut(
                       id=t.id, ticket_type_id=t.ticket_type_id,
                       code=code_of(t.id, t.event_id), reference=t.code,
                       state=state(t.id, t.status),
                       checked_in_at=iso(admitted[t.id]) if t.id in admitted else None,
                       seat_id=t.seat_id, status=t.status) for t in o.tickets],
                   total=o.total, currency=o.currency, created_at=iso(o.created_at),
                   event=OrderEventOut.of(event) if event else None, refunded=o.refunded)


class OrdersOut(BaseModel):
    items: list[OrderOut]


class VenueIn(Strict):
    name: Annotated[Line, Field(min_length=1, max_length=200)]
    city: Annotated[Line, Field(min_length=1, max_length=100)]
    address: Annotated[Line, Field(max_length=300)] = ""
    country: Annotated[Line, Field(max_length=100)] = ""
    timezone: Annotated[str, Field(
        max_length=64, description="IANA time zone of the venue, e.g. Europe/Berlin; event "
                                   "times are shown in it")] = DEFAULT_TIMEZONE

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not is_timezone(value):
            raise ValueError("must be an IANA time zone name such as Europe/Berlin")
        return value

    def venue(self, venue_id: str = "") -> Venue:
        return Venue(venue_id, self.name, self.city, self.address, self.country, self.timezone)


class TicketTypeIn(Strict):
    name: Annotated[Line, Field(min_length=1, max_length=100)]
    price: Annotated[int, Field(ge=0, le=100_000_000, strict=True, description="minor units")]
    capacity: Annotated[int, Field(ge=1, le=1_000_000, strict=True)]


class EventIn(Strict):
    name: Annotated[Line, Field(min_length=1, max_length=200)]
    description: Annotated[Paragraphs, Field(max_length=5000)] = ""
    category: Annotated[Line, Field(max_length=50)] = ""
    starts_at: Annotated[DateTime, Field(description=DATE_DOC)]
    venue: VenueIn | None = None
    venue_id: Annotated[str | None, Field(min_length=1, max_length=64,
                                          description="an existing venue instead of `venue`")
                        ] = None
    currency: Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")] = "EUR"
    per_user_limit: Annotated[int | None, Field(ge=1, le=50, strict=True)] = None
    image_url: Annotated[Line, Field(max_length=500)] = ""
    status: Literal["draft", "on_sale"] = "on_sale"
    ticket_types: Annotated[list[TicketTypeIn], Field(min_length=1, max_length=20)]


class TicketTypePatchIn(Strict):
    """A change to a ticket type; without ``id``, a new type (name, price, capacity)."""

    id: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    name: Annotated[Line | None, Field(min_length=1, max_length=100)] = None
    price: Annotated[int | None, Field(ge=0, le=100_000_000, strict=True)] = None
    capacity: Annotated[int | None, Field(ge=0, le=1_000_000, strict=True)] = None


class EventPatchIn(Strict):
    name: Annotated[Line | None, Field(min_length=1, max_length=200)] = None
    description: Annotated[Paragraphs | None, Field(max_length=5000)] = None
    category: Annotated[Line | None, Field(max_length=50)] = None
    starts_at: Annotated[DateTime | None, Field(description=DATE_DOC)] = None
    venue: VenueIn | None = None
    per_user_limit: Annotated[int | None, Field(ge=1, le=50, strict=True)] = None
    image_url: Annotated[Line | None, Field(max_length=500)] = None
    ticket_types: Annotated[list[TicketTypePatchIn], Field(max_length=20)] = []


class VenueOut(BaseModel):
    id: str
    name: str
    city: str
    address: str
    country: str
    timezone: str

    @classmethod
    def of(cls, v: Venue) -> VenueOut:
        return cls(id=v.id, name=v.name, city=v.city, address=v.address, country=v.country,
                   timezone=v.timezone)


class TicketTypeOut(BaseModel):
    id: str
    name: str
    price: int
    currency: str
    capacity: int


class QueueIn(Strict):
    """An event's waiting room: on or off, when the pre-queue ends, the admission rate."""

    enabled: Annotated[bool, Field(strict=True)]
    opens_at: Annotated[DateTime | None, Field(description=DATE_DOC)] = None
    admit_per_minute: Annotated[int | None, Field(ge=1, le=1_000_000, strict=True)] = None


class QueueSettingsOut(BaseModel):
    enabled: bool
    opens_at: str
    admit_per_minute: int


class QueueStatsOut(BaseModel):
    event_id: str
    enabled: bool
    opens_at: str
    admit_per_minute: int
    opened: bool
    paused: bool
    admitted: int
    waiting: int
    expected_wait_seconds: int | None


class QueuePlaceOut(BaseModel):
    event_id: str
    state: Literal["open", "none", "pre_queue", "queued", "admitted", "expired"]
    opens_at: str | None
    place: int | None
    ahead: int | None
    total: int
    admitted: int
    admit_per_minute: int
    paused: bool
    expected_wait_seconds: int | None
    token: str | None
    token_expires_at: str | None


class EventOut(BaseModel):
    id: str
    name: str
    description: str
    category: str
    starts_at: str
    venue: VenueOut
    ticket_types: list[TicketTypeOut]
    currency: str
    per_user_limit: int
    status: str
    image_url: str
    queue: QueueSettingsOut | None = None

    @classmethod
    def of(cls, e: Event) -> EventOut:
        return cls(
            id=e.id, name=e.name, description=e.description, category=e.category,
            starts_at=e.starts_at, venue=VenueOut.of(e.venue),
            ticket_types=[TicketTypeOut(id=t.id, name=t.name, price=t.price,
                                        currency=t.currency, capacity=t.capacity)
                          for t in e.ticket_types],
            currency=e.currency, per_user_limit=e.per_user_limit, status=e.status,
            image_url=e.image_url,
            queue=QueueSettingsOut(enabled=e.queue.enabled, opens_at=iso(e.queue.opens_at),
                                   admit_per_minute=e.queue.admit_per_minute)
            if e.queue else None,
        )


class VenuesOut(BaseModel):
    items: list[VenueOut]
    next_cursor: str | None


class EventsOut(BaseModel):
    items: list[EventOut]
    next_cursor: str | None


class AvailabilityLine(BaseModel):
    id: str
    available: int
    waiting: int = Field(0, description="buyers on the type's waiting list (issue 16); "
                                        "while any wait, available is 0 for everyone else")


class AvailabilityOut(BaseModel):
    event_id: str
    ticket_types: list[AvailabilityLine]


class HealthOut(BaseModel):
    status: str  # ok | ready | degraded (selling from SQL: see ``degraded``)
    degraded: list[str] = []  # dependencies down while the shop keeps selling ("redis")
    checks: dict[str, str] = {}


class ProblemOut(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    field: str | None = None


class PasswordPolicyOut(BaseModel):
    """What registration and password change accept (the server's rules, stated up front)."""

    min_length: int
    max_length: int
    min_distinct: Annotated[int, Field(description="different characters at least")]
    rejects_common: Annotated[bool, Field(description="well-known breached passwords refused")]
    rejects_email_name: Annotated[bool, Field(
        description="the part of the email before @ may not appear in the password")]


class WaitlistIn(Strict):
    ticket_type_id: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=1, le=50, strict=True)]


class WaitlistEntryOut(BaseModel):
    entry_id: str
    event_id: str
    ticket_type_id: str
    quantity: int
    status: Literal["waiting", "offered", "purchased", "expired", "declined", "left",
                    "lapsed"]
    place: int | None = Field(description="1-based among the type's waiting entries, "
                                          "while waiting")
    joined_at: str
    hold_id: str | None = Field(description="the offer: a hold of the tickets for you")
    offer_expires_at: str | None
    order_id: str | None

    @classmethod
    def of(cls, e: WaitlistEntry) -> WaitlistEntryOut:
        return cls(
            entry_id=e.id, event_id=e.event_id, ticket_type_id=e.ticket_type_id,
            quantity=e.quantity, status=e.status,
            place=e.place, joined_at=iso(e.joined_at), hold_id=e.hold_id,
            offer_expires_at=iso(e.offer_expires_at) if e.offer_expires_at else None,
            order_id=e.order_id)


class WaitlistOut(BaseModel):
    event_id: str
    entries: list[WaitlistEntryOut]
    waiting: dict[str, int] = Field(description="entries waiting per ticket type")
