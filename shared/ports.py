"""Ports: the small Protocols that services depend on and adapters implement.

Services import only this module and ``models``; no service imports Redis, SQLAlchemy or an
Azure SDK. Every method is async because every implementation does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from shared.door import DoorCounts, Scan, StaffMember
from shared.mail import OutboxItem, OutgoingMail
from shared.models import (
    Charge,
    Event,
    Hold,
    InventoryLine,
    LineItem,
    Order,
    OrderPage,
    PaymentRequest,
    Principal,
    Ticket,
    User,
    Venue,
    WaitlistOfferNotice,
)
from shared.settings import Rate


@dataclass(frozen=True)
class ScriptResult:
    """What an inventory script answered: ``ok`` or an error code, plus its payload."""

    ok: bool
    error: str = ""
    data: dict[str, Any] | None = None

    def get(self, key: str, default: Any = None) -> Any:
        return (self.data or {}).get(key, default)


@dataclass(frozen=True)
class EventRules:
    """What the hold script needs about an event, loaded next to its inventory."""

    currency: str
    per_user_limit: int
    status: str
    prices: dict[str, int]
    promos: dict[str, str] = field(default_factory=dict)  # active code -> offer JSON
    retired_promos: tuple[str, ...] = ()


@dataclass(frozen=True)
class HoldCommit:
    """One paid order whose hold is to be marked committed."""

    event_id: str
    hold_id: str
    order_id: str


@dataclass(frozen=True)
class Sale:
    """One charged order to write into the ledger: the message, its charge, its tickets."""

    request: PaymentRequest
    charge: Charge
    tickets: tuple[Ticket, ...]


class InventoryStore(Protocol):
    """Live inventory and holds (Redis + Lua): every change is one atomic script."""

    multi_slot_scripts: bool
    """True when a script may touch keys of several hash slots (a single Redis server), so
    ``hold`` can take the buyer's cross-event bucket in the same call."""

    async def hold(
        self, event_id: str, hold_id: str, user_id: str, items: Sequence[LineItem],
        now: int, expires_at: int, sweep: int, rate: Rate, promo_code: str = "",
        buyer_bucket: tuple[str, Rate] | None = None,
    ) -> ScriptResult:
        """``buyer_bucket`` (only when ``multi_slot_scripts``): a rate bucket taken first,
        in the same atomic step; a refusal answers rate_limited with scope 'buyer'."""
        ...

    async def checkout(
        self, event_id: str, hold_id: str, user_id: str, order_id: str, now: int, pay_until: int,
        payment_token: str, trace: Mapping[str, str],
        buyer_bucket: tuple[str, Rate] | None = None, queue: PaymentBus | None = None,
    ) -> ScriptResult:
        """Held -> checkout, and the order into the checkout outbox, in one script;
        ``buyer_bucket`` (only when ``multi_slot_scripts``): the buyer's checkout rate, taken
        first in the same script (``error='rate_limited'`` when it refuses). ``queue``: the
        bus the payment message goes to; when that queue lives in this same store, the
        script queues the message itself instead of the outbox and answers ``published``;
        otherwise the caller publishes."""
        ...

    async def commit(
        self, event_id: str, hold_id: str, order_id: str, now: int,
    ) -> ScriptResult: ...

    async def commit_many(
        self, commits: Sequence[HoldCommit], now: int,
    ) -> list[ScriptResult | Exception]:
        """``commit`` for many holds in one round trip (a pipeline, not a transaction):
        each answer, or the error that one commit met, in the order given."""
        ...

    async def release(
        self, event_id: str, hold_id: str, user_id: str | None, now: int, reason: str,
        allow_checkout: bool,
    ) -> ScriptResult: ...

    async def expire(
        self, event_id: str, now: int, limit: int, retention_ms: int,
    ) -> ScriptResult: ...

    async def load(
        self, event_id: str, rules: EventRules, lines: Sequence[InventoryLine], *,
        replace: bool,
    ) -> dict[str, int] | None:
        """Set rules and availability; None when ``replace`` is false and it was loaded."""
        ...

    async def sync_sql(self, event_id: str, taken_sql: dict[str, int],
                       taken_by_user: dict[str, int]) -> ScriptResult:
        """Move availability (and per-user counts) by what SQL holds took or gave back
        since the last sync."""
        ...

    async def held_counts(self, event_id: str) -> dict[str, int] | None:
        """Tickets in active holds per type; None when the event is not loaded."""
        ...

    async def set_rules(self, event_id: str, rules: EventRules) -> None:
        """Replace prices, currency, limit and status of a loaded event (one HSET)."""
        ...

    async def change_capacity(self, event_id: str, ticket_type_id: str, delta: int,
                              price: int | None = None) -> ScriptResult:
        """Add ``delta`` tickets (negative: remove unsold, unheld ones) atomically."""
        ...

    async def lock(self, name: str, ttl_ms: int) -> bool: ...

    async def unlock(self, name: str) -> None: ...

    async def promo_uses(self, event_id: str, codes: Sequence[str]) -> dict[str, int]: ...

    async def get_hold(self, event_id: str, hold_id: str) -> Hold | None: ...

    async def get_holds(self, wanted: Sequence[tuple[str, str]]) -> list[Hold | None]:
        """(event id, hold id) pairs -> their holds, in order, in one round trip."""
        ...

    async def hold_of_order(self, event_id: str, order_id: str) -> Hold | None: ...

    async def availability(self, event_id: str) -> dict[str, int] | None: ...

    async def active_holds(self, event_id: str) -> list[Hold]: ...

    async def stuck_checkouts(self, event_id: str, before: int, limit: int) -> list[str]: ...


class Ledger(Protocol):
    """The SQL ledger: inventory capacity and sales, orders, tickets, payments."""

    async def create_inventory(self, lines: Sequence[InventoryLine]) -> None: ...

    async def inventory(self, event_id: str) -> list[InventoryLine]: ...

    async def event_ids(self) -> list[str]: ...

    async def change_capacity(self, event_id: str, ticket_type_id: str, delta: int) -> bool:
        """Add ``delta`` to the capacity unless that would drop it below sold; True if done.
        A type without a row gets one with capacity ``delta``."""
        ...

    async def get_order(self, order_id: str) -> Order | None: ...

    async def order_page(self, order_id: str) -> OrderPage | None:
        """The order with its refunds applied and its tickets' check-ins, in one read (what
        ``get_order``, ``refund_states`` and ``checkins_of`` would answer together)."""
        ...

    async def get_orders(self, order_ids: Sequence[str]) -> dict[str, Order]:
        """The orders among ``order_ids`` that exist, by id (one query, for a batch)."""
        ...

    async def orders_of_user(self, user_id: str, limit: int) -> list[Order]: ...

    async def record_confirmed(
        self, request: PaymentRequest, charge: Charge, tickets: Sequence[Ticket], now: int,
    ) -> Order:
        """Insert order + tickets + payment and add to ``sold`` in one transaction.

        Raises LedgerSoldOut when the capacity guard refuses; returns the existing order when
        one with this id or hold already exists (a concurrent or earlier finalize won).
        """
        ...

    async def record_confirmed_batch(self, sales: Sequence[Sale], now: int) -> list[Order]:
        """``record_confirmed`` for many orders in ONE transaction: multi-row inserts and one
        guarded ``sold`` update per ticket type. All or nothing: raises LedgerSoldOut when
        any guard refuses or any order already exists, having written nothing; the caller
        then settles those orders one transaction each."""
        ...

    async def record_failed(
        self, request: PaymentRequest, reason: str, now: int, refunded: Charge | None = None,
    ) -> Order:
        """Insert a failed order; returns the existing order when one already exists."""
        ...


@dataclass(frozen=True)
class SqlDue:
    """The reconciler's SQL-side work of one pass (``DegradedLedger.due``)."""

    expired: list[str]
    stuck: list[Hold]
    unpublished: list[tuple[str, str]]


class DegradedLedger(Protocol):
    """Holds, checkouts and the payments outbox in SQL while Redis is down (degraded mode).
    Results use the codes of the matching Lua scripts."""

    async def take_hold(self, hold: Hold, per_user_limit: int) -> ScriptResult: ...

    async def get_hold(self, hold_id: str) -> Hold | None: ...

    async def hold_of_order(self, order_id: str) -> Hold | None: ...

    async def release(self, hold_id: str, user_id: str | None, now: int, reason: str,
                      allow_checkout: bool) -> ScriptResult: ...

    async def checkout(self, hold_id: str, user_id: str, order_id: str, now: int,
                       pay_until: int, message: str) -> ScriptResult: ...

    async def commit(self, hold_id: str, now: int) -> bool: ...

    async def due(self, now: int, limit: int) -> SqlDue:
        """Expired SQL holds, SQL checkouts past their window, unpublished messages."""
        ...

    async def record_confirmed(self, request: PaymentRequest, charge: Charge,
                               new_tickets: Sequence[Ticket], now: int) -> Order: ...

    async def mark_published(self, order_id: str, now: int) -> None: ...

    async def merge_state(self, event_id: str, held: dict[str, int],
                          now: int) -> tuple[dict[str, int], dict[str, int]]:
        """Record Redis's held counts; answer SQL's taken tickets per type and per buyer."""
        ...


class UserRepository(Protocol):
    async def add_user(self, user: User) -> bool: ...

    async def user_by_email(self, email: str) -> User | None: ...

    async def user_by_id(self, user_id: str) -> User | None: ...

    async def set_password_hash(self, user_id: str, password_hash: str) -> None: ...


class SessionRepository(Protocol):
    """Durable sessions (SQL): the write-through copy behind the Redis session cache."""

    async def add_session(self, token_hash: str, principal: Principal, now: int) -> None: ...

    async def session(self, token_hash: str, now: int) -> Principal | None: ...

    async def revoke_session(self, token_hash: str, now: int) -> None: ...

    async def revoke_user_sessions(self, user_id: str, now: int) -> list[str]:
        """Revoke every live session of the user; returns their token hashes."""
        ...


class SessionCache(Protocol):
    async def get(self, token_hash: str) -> Principal | None: ...

    async def put(self, token_hash: str, principal: Principal, ttl_ms: int) -> None: ...

    async def delete(self, token_hash: str) -> None: ...


@dataclass(frozen=True)
class EventFilter:
    """Listing filters: text in name or description, city, category, start in [from, to)."""

    q: str | None = None
    city: str | None = None
    category: str | None = None
    starts_from: str | None = None
    starts_to: str | None = None
    venue_id: str | None = None
    listed_only: bool = True


class CatalogStore(Protocol):
    """Event documents (Cosmos DB in Azure, SQLite documents locally).

    Writes use optimistic concurrency: ``put_event(..., if_match=etag)`` fails with
    ``EditConflict`` when the stored document changed since that etag was read. Listing is
    sorted by start time then id; ``cursor`` is the store's own opaque continuation.
    """

    async def put_event(self, event: Event, if_match: str | None = None) -> Event: ...

    async def get_event(self, event_id: str) -> Event | None: ...

    async def list_events(self, filters: EventFilter, cursor: str | None,
                          limit: int) -> tuple[list[Event], str | None]: ...

    async def count_events(self) -> int: ...

    async def put_venue(self, venue: Venue) -> Venue: ...

    async def get_venue(self, venue_id: str) -> Venue | None: ...

    async def list_venues(self, cursor: str | None,
                          limit: int) -> tuple[list[Venue], str | None]: ...


class WaitingRoomStore(Protocol):
    """An event's waiting room (Redis + Lua): places, the admitted pointer, pause state."""

    async def configure(self, event_id: str, now: int, opens_at: int,
                        admit_per_minute: int) -> ScriptResult: ...

    async def join(self, event_id: str, user_id: str, now: int, score: float,
                   window_ms: int) -> ScriptResult: ...

    async def status(self, event_id: str, user_id: str, now: int,
                     window_ms: int) -> ScriptResult: ...

    async def set_paused(self, event_id: str, now: int, paused: bool) -> ScriptResult: ...

    async def stats(self, event_id: str, now: int) -> ScriptResult: ...


class PaymentBus(Protocol):
    """The payments queue. ``publish`` is deduplicated on ``order_id`` (the message id)."""

    async def publish(self, request: PaymentRequest) -> None: ...


class OrderNotices(Protocol):
    """"These orders just became final": finalize tells every API instance, so a buyer
    waiting on ``GET /api/orders/{id}?wait=`` hears at once instead of polling. Best effort:
    a lost notice costs a waiter one re-check interval, never a wrong answer."""

    async def publish(self, order_ids: Sequence[str]) -> None: ...

    async def listen(self, on_final: Callable[[Sequence[str]], None]) -> None: ...


class CheckoutOutbox(Protocol):
    """Orders checked out whose payment message may not be published yet.

    ``InventoryStore.checkout`` adds an order in the same atomic step as the checkout; it
    leaves once the queue accepted its message (``ack``) or its hold left checkout.
    """

    async def due(self, event_id: str, now: int, before: int,
                  limit: int) -> list[PaymentRequest]:
        """The payment messages of holds still in checkout whose order entered the outbox
        (or was last relayed) at or before ``before``; each is re-armed at ``now``. Entries
        of holds that left checkout are dropped."""
        ...

    async def ack(self, event_id: str, order_id: str) -> None: ...


class PaymentGateway(Protocol):
    """A card processor. ``charge`` with a seen idempotency key returns the first result."""

    async def charge(
        self, *, amount: int, currency: str, token: str, idempotency_key: str,
    ) -> Charge: ...

    async def refund(self, charge: Charge) -> None: ...

    async def find_charge(self, idempotency_key: str) -> Charge | None: ...


@runtime_checkable
class QueuedPayments(Protocol):
    """Read-only view of the payments queue, for the restore after Redis lost its data."""

    async def queued(self) -> list[PaymentRequest] | None:
        """Every message still in the queue (peeked, not received); None when the queue's
        own storage was lost too (locally, the stream lives in the Redis that was lost)."""
        ...


@runtime_checkable
class ChargeListing(Protocol):
    """The processor's list of charges, as a real processor's API offers it."""

    async def open_charges(self, since_ms: int) -> list[Charge]:
        """Succeeded, unrefunded charges made at or after ``since_ms``."""
        ...


class RateLimiter(Protocol):
    async def take(self, bucket: str, rate: Rate, now: int, *, cost: int = 1,
                   dry_run: bool = False) -> int:
        """Take ``cost`` from the bucket; 0 when allowed, else milliseconds to wait."""
        ...

    async def reset(self, bucket: str) -> None: ...


@dataclass(frozen=True)
class StoredResponse:
    status: int  # 0 while the first request is still running
    body: str  # while pending: the owner of the claim
    fingerprint: str
    location: str = ""


class IdempotencyStore(Protocol):
    """First answers of requests sent with an ``Idempotency-Key``."""

    async def begin(self, key: str, fingerprint: str, owner: str,
                    lease_ms: int) -> StoredResponse | None:
        """Claim ``key`` for ``lease_ms``; None when claimed now, else what is stored
        (status 0 = pending)."""
        ...

    async def renew(self, key: str, fingerprint: str, owner: str, lease_ms: int) -> bool:
        """Extend the claim while ``owner`` still holds it; False when it does not."""
        ...

    async def finish(self, key: str, fingerprint: str, owner: str, response: StoredResponse,
                     ttl_ms: int) -> bool:
        """Store the answer in place of ``owner``'s claim; False (nothing changed) when the
        claim is no longer ``owner``'s."""
        ...

    async def abandon(self, key: str, fingerprint: str, owner: str) -> bool:
        """Drop ``owner``'s claim so the request may be retried; False as for ``finish``."""
        ...

    async def get(self, key: str) -> StoredResponse | None: ...


class RevocationFeed(Protocol):
    """Tells every instance that sessions were revoked, so in-process caches drop them."""

    async def publish(self, token_hashes: Sequence[str]) -> None: ...


class AuditLog(Protocol):
    async def record_audit(self, actor_id: str, action: str, target: str,
                           detail: dict[str, Any], now: int) -> None: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


class DoorLedger(Protocol):
    """Door staff grants and exactly-once check-ins (issue 16)."""

    async def add_staff(self, event_id: str, user_id: str, granted_by: str, now: int) -> bool:
        """True when newly granted; False when the user already was staff there."""
        ...

    async def remove_staff(self, event_id: str, user_id: str) -> bool: ...

    async def staff_of_event(self, event_id: str) -> list[StaffMember]: ...

    async def events_of_staff(self, user_id: str) -> list[str]: ...

    async def is_staff(self, event_id: str, user_id: str) -> bool: ...

    async def check_in(self, ticket_id: str, event_id: str, by: str, now: int) -> Scan:
        """Admit the ticket unless it was admitted before (atomic: of concurrent calls for
        one ticket exactly one answers ADMITTED)."""
        ...

    async def door_counts(self, event_id: str) -> DoorCounts: ...

    async def checkins_of(self, ticket_ids: Sequence[str]) -> dict[str, int]:
        """Ticket id -> checked-in time (epoch ms) for those admitted."""
        ...


class EmailOutbox(Protocol):
    """Emails written with what they announce, claimed with a lease, marked sent."""

    async def claim_due(self, now: int, lease_ms: int, limit: int) -> list[OutboxItem]: ...

    async def mark_sent(self, item: OutboxItem, now: int) -> None: ...

    async def mark_failed(self, item: OutboxItem, error: str, retry_at: int) -> None: ...


class MailSender(Protocol):
    """A mail service. ``send`` returns once the service accepted the message; raising
    means it did not, and the outbox retries."""

    async def send(self, mail: OutgoingMail) -> None: ...


class WaitlistStore(Protocol):
    """The waiting list (issue 16), next to the inventory: every change one atomic script
    on the event's keys, so an offer moves tickets in the same step as it takes its turn."""

    async def join(self, event_id: str, entry_id: str, user_id: str, ticket_type_id: str,
                   quantity: int, now: int) -> ScriptResult: ...

    async def offer(self, event_id: str, now: int, expires_at: int,
                    limit: int) -> ScriptResult:
        """Offer returned tickets to the heads of the queue; also answers the offers whose
        email is not enqueued yet (``notes``)."""
        ...

    async def status(self, event_id: str, user_id: str) -> ScriptResult: ...

    async def leave(self, event_id: str, entry_id: str, user_id: str,
                    now: int) -> ScriptResult: ...

    async def notices_done(self, event_id: str, entry_ids: Sequence[str]) -> None:
        """The emails of these offers are in the SQL outbox: forget their notes."""
        ...

    async def waiting(self, event_id: str, ticket_type_ids: Sequence[str]) -> dict[str, int]:
        """Entries waiting per ticket type (one read)."""
        ...


class WaitlistNotices(Protocol):
    """The offer emails in the SQL email outbox, idempotent on the entry id."""

    async def add_waitlist_offers(self, notices: Sequence[WaitlistOfferNotice],
                                  now: int) -> int: ...

    async def waitlist_offer(self, entry_id: str) -> WaitlistOfferNotice | None: ...
