"""Ports of the organiser console: the ledger's sales, orders and refunds, the live
inventory snapshot, and the processor's partial refunds. Services depend on these
Protocols; ``sql_console``, ``redis_console`` and the gateway implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from shared.models import Charge, InventoryLine, Order


@dataclass(frozen=True)
class LiveSnapshot:
    """One atomic read of an event's Redis inventory: available per ticket type, and each
    active (held or checkout) hold: hold id -> quantities per type."""

    available: dict[str, int]
    holds: list[tuple[str, dict[str, int]]] = field(default_factory=list)


@dataclass(frozen=True)
class EventTotals:
    capacity: int = 0
    sold: int = 0
    revenue: int = 0  # confirmed orders' totals minus refunds, minor units
    orders: int = 0


@dataclass(frozen=True)
class SalesPoint:
    minute: int  # epoch ms at the start of the minute (UTC)
    tickets: int
    revenue: int


@dataclass(frozen=True)
class OrderRow:
    id: str
    email: str
    status: str
    tickets: int
    refunded_tickets: int
    total: int
    refunded: int
    currency: str
    created_at: int


@dataclass(frozen=True)
class Refund:
    """Status: ``pending`` (recorded in the ledger, tickets void, money not yet returned),
    ``refunded`` (the processor returned it), ``done`` (tickets back on sale)."""

    id: str
    order_id: str
    event_id: str
    user_id: str
    amount: int
    currency: str
    status: str
    tickets: tuple[tuple[str, str], ...]  # (ticket id, ticket type id)
    actor_id: str
    created_at: int

    def quantities(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for _, type_id in self.tickets:
            counts[type_id] = counts.get(type_id, 0) + 1
        return sorted(counts.items())


@dataclass(frozen=True)
class RefundState:
    """What has been refunded of one order: the amount and the voided ticket ids."""

    amount: int = 0
    ticket_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CancellationJob:
    """Progress of refunding every order of a cancelled event."""

    event_id: str
    status: str  # running | done
    actor_id: str
    orders: int  # confirmed orders of the event
    refunded: int  # of which every ticket is refunded
    started_at: int
    updated_at: int


class ConsoleLedger(Protocol):
    async def event_totals(self, event_ids: Sequence[str]) -> dict[str, EventTotals]: ...

    async def sold_and_confirmed(self, event_id: str, hold_ids: Sequence[str]
                                 ) -> tuple[list[InventoryLine], set[str]]:
        """The event's ledger lines and which of ``hold_ids`` have a confirmed order, read in
        one snapshot (after the Redis snapshot, so a sale never counts twice)."""
        ...

    async def sales_per_minute(self, event_id: str) -> list[SalesPoint]: ...

    async def event_orders(self, event_id: str, query: str, after: tuple[int, str] | None,
                           limit: int) -> list[OrderRow]:
        """Newest first; ``after`` is the (created_at, id) of the last row already seen."""
        ...

    async def order_email(self, order_id: str) -> str | None: ...

    async def charge_of(self, order_id: str) -> Charge | None: ...

    async def create_refund(self, refund_id: str, order_id: str, ticket_ids: Sequence[str] | None,
                            prices: Mapping[str, int], actor_id: str, now: int) -> Refund | None:
        """Void the tickets (all still valid when ``ticket_ids`` is None), take them off
        ``sold`` and record the refund, in one transaction. None when every ticket asked
        for was refunded already."""
        ...

    async def refunds_of(self, order_id: str) -> list[Refund]: ...

    async def unfinished_refunds(self, limit: int) -> list[Refund]: ...

    async def set_refund_status(self, refund_id: str, status: str, now: int) -> None: ...

    async def refund_states(self, order_ids: Sequence[str]) -> dict[str, RefundState]: ...

    async def audit_of(self, target_prefix: str, limit: int) -> list[dict[str, Any]]: ...

    async def start_cancellation(self, event_id: str, actor_id: str, now: int
                                 ) -> CancellationJob:
        """Record the job (or find the one already recorded)."""
        ...

    async def cancellation(self, event_id: str) -> CancellationJob | None: ...

    async def running_cancellations(self) -> list[str]: ...

    async def refundable_orders(self, event_id: str, after: str, limit: int) -> list[str]:
        """Confirmed orders with a ticket not yet refunded, by id after ``after``."""
        ...

    async def active_sql_holds(self, event_id: str) -> int:
        """Holds of the event taken in SQL while Redis was down (degraded mode) that are
        still held or in checkout: their payments may still confirm."""
        ...

    async def finish_cancellation(self, event_id: str, now: int) -> None: ...

    async def touch_cancellation(self, event_id: str, now: int) -> None: ...


class LiveInventory(Protocol):
    async def snapshot(self, event_id: str) -> LiveSnapshot | None: ...

    async def restock(self, event_id: str, refund_id: str, user_id: str,
                      quantities: Sequence[tuple[str, int]]) -> bool: ...


@runtime_checkable
class PartialRefunds(Protocol):
    """A processor that refunds part of a charge, once per idempotency key."""

    async def refund_amount(self, charge: Charge, amount: int, idempotency_key: str) -> None: ...


def with_refunds(order: Order, state: RefundState | None) -> Order:
    """The order as its buyer and organiser see it: voided tickets marked, refund amount."""
    if state is None or not state.ticket_ids:
        return order
    return replace(order, refunded=state.amount, tickets=tuple(
        replace(t, status="refunded" if t.id in state.ticket_ids else t.status)
        for t in order.tickets))
