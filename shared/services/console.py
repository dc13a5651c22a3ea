"""The organiser console: my events with what sold, the live sales dashboard of an event,
its orders (searchable, paged by keyset, exported as CSV page by page) and one order.

Figures come from the ledger (capacity, sold, revenue, sales over time) and Redis
(available and held right now). The dashboard reads Redis first, in one atomic snapshot,
then the ledger; a hold whose order the ledger confirmed in between counts as sold, not
held, so sold + held + available = capacity holds even in the middle of an on-sale.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from shared import ids
from shared.errors import InvalidInput, NotFound
from shared.models import Event, Order, OrderStatus, Principal, iso
from shared.ports import AuditLog, CatalogStore, EventFilter, InventoryStore, Ledger
from shared.ports_console import (
    ConsoleLedger,
    EventTotals,
    LiveInventory,
    OrderRow,
    Refund,
    SalesPoint,
    with_refunds,
)
from shared.services.inventory import InventoryService

CSV_PAGE = 1000
CSV_HEADER = ("order_id", "email", "status", "tickets", "refunded_tickets", "total",
              "refunded", "currency", "created_at")


@dataclass(frozen=True)
class TypeFigures:
    id: str
    name: str
    price: int
    capacity: int
    sold: int
    held: int
    available: int
    waiting: int = 0  # buyers on the type's waiting list (issue 16)

    @property
    def revenue(self) -> int:
        """Sold tickets at the current list price (lines' prices are not in the ledger)."""
        return self.sold * self.price


@dataclass(frozen=True)
class Dashboard:
    event: Event
    types: list[TypeFigures]
    revenue: int  # net: confirmed orders minus refunds
    orders: int
    sales: list[SalesPoint]
    promo_uses: dict[str, int]


@dataclass(frozen=True)
class OrderDetail:
    order: Order
    email: str
    refunds: list[Refund]


def encode_cursor(row: OrderRow) -> str:
    return f"{row.created_at}~{row.id}"


def decode_cursor(cursor: str | None) -> tuple[int, str] | None:
    if not cursor:
        return None
    at, _, last = cursor.partition("~")
    if not at.isdigit() or ids.event_of(last) is None:
        raise InvalidInput("not a cursor this API gave out", field="cursor")
    return int(at), last


class ConsoleService:
    def __init__(self, catalog: CatalogStore, ledger: Ledger, console: ConsoleLedger,
                 live: LiveInventory, store: InventoryStore,
                 inventory: InventoryService, audit: AuditLog,
                 clock: Callable[[], int],
                 waiting: Callable[[str, list[str]], Awaitable[dict[str, int]]] | None = None,
                 ) -> None:
        self._catalog = catalog
        self._waiting = waiting
        self._ledger = ledger
        self._console = console
        self._live = live
        self._store = store
        self._inventory = inventory
        self._audit = audit
        self._clock = clock

    async def _event(self, event_id: str) -> Event:
        event = await self._catalog.get_event(event_id) if ids.is_event_id(event_id) else None
        if event is None:
            raise NotFound(f"event {event_id} not found")
        return event

    async def my_events(self, cursor: str | None, limit: int
                        ) -> tuple[list[tuple[Event, EventTotals]], str | None]:
        """Every event, drafts and cancelled ones included, by start time."""
        events, next_cursor = await self._catalog.list_events(
            EventFilter(listed_only=False), cursor, limit)
        totals = await self._console.event_totals([e.id for e in events])
        return [(e, totals.get(e.id, EventTotals())) for e in events], next_cursor

    async def dashboard(self, event_id: str) -> Dashboard:
        event = await self._event(event_id)
        snap = await self._live.snapshot(event_id)
        if snap is None:  # Redis lost it or never had it: load from the ledger, then read
            await self._inventory.load(event_id)
            snap = await self._live.snapshot(event_id)
        holds = snap.holds if snap else []
        lines, confirmed = await self._console.sold_and_confirmed(
            event_id, [hold_id for hold_id, _ in holds])
        held: dict[str, int] = {}
        for hold_id, quantities in holds:
            if hold_id in confirmed:
                continue  # sold in the ledger already; its commit in Redis follows
            for type_id, n in quantities.items():
                held[type_id] = held.get(type_id, 0) + n
        available = snap.available if snap else {}
        by_id = {line.ticket_type_id: line for line in lines}
        type_ids = [t.id for t in event.ticket_types]
        waiting = await self._waiting(event_id, type_ids) if self._waiting else {}
        types = [TypeFigures(
            id=t.id, name=t.name, price=t.price,
            capacity=by_id[t.id].capacity if t.id in by_id else t.capacity,
            sold=by_id[t.id].sold if t.id in by_id else 0, held=held.get(t.id, 0),
            available=available.get(t.id, 0), waiting=waiting.get(t.id, 0))
            for t in event.ticket_types]
        totals = (await self._console.event_totals([event_id])).get(event_id, EventTotals())
        sales = await self._console.sales_per_minute(event_id)
        uses = await self._store.promo_uses(event_id, [o.code for o in event.offers])
        return Dashboard(event=event, types=types, revenue=totals.revenue,
                         orders=totals.orders, sales=sales, promo_uses=uses)

    async def orders(self, event_id: str, query: str, cursor: str | None, limit: int
                     ) -> tuple[list[OrderRow], str | None]:
        await self._event(event_id)
        rows = await self._console.event_orders(event_id, query, decode_cursor(cursor),
                                                limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, encode_cursor(rows[-1]) if more else None

    async def csv_lines(self, event_id: str, query: str,
                        actor: Principal) -> AsyncIterator[str]:
        """The event's orders as CSV, one page of the ledger at a time: memory stays flat
        however many orders there are. The export of buyers' emails is audited."""
        await self._event(event_id)
        await self._audit.record_audit(actor.user_id, "orders.export", event_id,
                                       {"q": query}, self._clock())

        def line(values: tuple[object, ...]) -> str:
            out = io.StringIO()
            csv.writer(out).writerow(values)
            return out.getvalue()

        async def lines() -> AsyncIterator[str]:
            yield line(CSV_HEADER)
            after: tuple[int, str] | None = None
            while True:
                rows = await self._console.event_orders(event_id, query, after, CSV_PAGE)
                if not rows:
                    return
                yield "".join(line((r.id, r.email, r.status, r.tickets, r.refunded_tickets,
                                    r.total, r.refunded, r.currency, iso(r.created_at)))
                              for r in rows)
                if len(rows) < CSV_PAGE:
                    return
                after = (rows[-1].created_at, rows[-1].id)

        return lines()

    async def order(self, order_id: str) -> OrderDetail:
        order = await self._ledger.get_order(order_id) if ids.event_of(order_id) else None
        if order is None:
            raise NotFound("order not found")
        states = await self._console.refund_states([order_id])
        return OrderDetail(order=with_refunds(order, states.get(order_id)),
                           email=await self._console.order_email(order_id) or "",
                           refunds=await self._console.refunds_of(order_id))

    async def audit(self, event_id: str, limit: int) -> list[dict[str, Any]]:
        """What organisers did to the event and its orders, newest first."""
        await self._event(event_id)
        return await self._console.audit_of(event_id, limit)

    async def with_refunds(self, orders: list[Order]) -> list[Order]:
        """Orders as their buyer sees them: refunded tickets marked, refunded amount."""
        confirmed = [o.id for o in orders if o.status == OrderStatus.CONFIRMED]
        if not confirmed:  # pending and failed orders have nothing refunded: no query
            return orders
        states = await self._console.refund_states(confirmed)
        return [with_refunds(o, states.get(o.id)) for o in orders]
