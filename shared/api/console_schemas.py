"""Bodies of the organiser console's API (``routes/console.py``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated

from pydantic import BaseModel, Field

from shared.api.schemas import EventOut, OrderOut, Strict
from shared.models import iso
from shared.ports_console import CancellationJob, EventTotals, OrderRow, Refund
from shared.services.console import Dashboard, OrderDetail


class ConsoleEventOut(BaseModel):
    event: EventOut
    capacity: int
    sold: int
    revenue: int
    orders: int

    @classmethod
    def of(cls, event: EventOut, totals: EventTotals) -> ConsoleEventOut:
        return cls(event=event, capacity=totals.capacity, sold=totals.sold,
                   revenue=totals.revenue, orders=totals.orders)


class ConsoleEventsOut(BaseModel):
    items: list[ConsoleEventOut]
    next_cursor: str | None


class TypeFiguresOut(BaseModel):
    id: str
    name: str
    price: int
    capacity: int
    sold: int
    held: int
    available: int
    revenue: int
    waiting: int = Field(0, description="buyers on the type's waiting list")


class SalesPointOut(BaseModel):
    minute: str
    tickets: int
    revenue: int


class PromoUseOut(BaseModel):
    code: str
    uses: int
    max_uses: int
    active: bool


class DashboardOut(BaseModel):
    event_id: str
    name: str
    status: str
    currency: str
    ticket_types: list[TypeFiguresOut]
    capacity: int
    sold: int
    held: int
    available: int
    revenue: int
    orders: int
    sales: list[SalesPointOut]
    promo_codes: list[PromoUseOut]

    @classmethod
    def of(cls, d: Dashboard) -> DashboardOut:
        types = [TypeFiguresOut(id=t.id, name=t.name, price=t.price, capacity=t.capacity,
                                sold=t.sold, held=t.held, available=t.available,
                                revenue=t.revenue, waiting=t.waiting) for t in d.types]
        return cls(
            event_id=d.event.id, name=d.event.name, status=d.event.status,
            currency=d.event.currency, ticket_types=types,
            capacity=sum(t.capacity for t in types), sold=sum(t.sold for t in types),
            held=sum(t.held for t in types), available=sum(t.available for t in types),
            revenue=d.revenue, orders=d.orders,
            sales=[SalesPointOut(minute=iso(p.minute), tickets=p.tickets, revenue=p.revenue)
                   for p in d.sales],
            promo_codes=[PromoUseOut(code=o.code, uses=d.promo_uses.get(o.code, 0),
                                     max_uses=o.max_uses, active=o.active)
                         for o in d.event.offers])


class OrderRowOut(BaseModel):
    order_id: str
    email: str
    status: str
    tickets: int
    refunded_tickets: int
    total: int
    refunded: int
    currency: str
    created_at: str

    @classmethod
    def of(cls, r: OrderRow) -> OrderRowOut:
        return cls(order_id=r.id, email=r.email, status=r.status, tickets=r.tickets,
                   refunded_tickets=r.refunded_tickets, total=r.total, refunded=r.refunded,
                   currency=r.currency, created_at=iso(r.created_at))


class OrderRowsOut(BaseModel):
    items: list[OrderRowOut]
    next_cursor: str | None


class RefundOut(BaseModel):
    refund_id: str
    amount: int
    currency: str
    status: str
    ticket_ids: list[str]
    created_at: str

    @classmethod
    def of(cls, r: Refund) -> RefundOut:
        return cls(refund_id=r.id, amount=r.amount, currency=r.currency, status=r.status,
                   ticket_ids=[t for t, _ in r.tickets], created_at=iso(r.created_at))


class OrderDetailOut(BaseModel):
    order: OrderOut
    email: str
    refunds: list[RefundOut]

    @classmethod
    def of(cls, d: OrderDetail, code_of: Callable[[str, str], str],
           checked_in: Mapping[str, int] | None = None) -> OrderDetailOut:
        return cls(order=OrderOut.of(d.order, code_of, checked_in), email=d.email,
                   refunds=[RefundOut.of(r) for r in d.refunds])


class RefundIn(Strict):
    """Leave ``ticket_ids`` out to refund every ticket of the order still valid."""

    ticket_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=36)]] | None,
                          Field(max_length=500)] = None


class CancellationOut(BaseModel):
    event_id: str
    status: str  # running | done
    orders: int  # confirmed orders of the event
    refunded: int  # of which every ticket is refunded
    started_at: str
    updated_at: str

    @classmethod
    def of(cls, j: CancellationJob) -> CancellationOut:
        return cls(event_id=j.event_id, status=j.status, orders=j.orders, refunded=j.refunded,
                   started_at=iso(j.started_at), updated_at=iso(j.updated_at))
