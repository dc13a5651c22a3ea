"""An order as the buyer keeps it: with its event (for "My orders"), as a PDF of its tickets
and as a calendar entry. Only the buyer's own confirmed orders have documents."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shared import ics
from shared.errors import Conflict, NotFound
from shared.models import Event, Order, OrderStatus, Principal
from shared.ports import CatalogStore
from shared.services.door import DoorService
from shared.services.orders import OrderService
from shared.ticket_sheets import TicketSheet, venue_time

PdfRenderer = Callable[[Sequence[TicketSheet]], bytes]


class OrderDocuments:
    def __init__(self, orders: OrderService, catalog: CatalogStore, door: DoorService,
                 render_pdf: PdfRenderer) -> None:
        self._orders = orders
        self._catalog = catalog
        self._door = door
        self._render_pdf = render_pdf

    async def events_of(self, orders: Sequence[Order]) -> dict[str, Event]:
        """The events of these orders (one read per distinct event; cached catalog)."""
        events: dict[str, Event] = {}
        for event_id in dict.fromkeys(o.event_id for o in orders):
            event = await self._catalog.get_event(event_id)
            if event is not None:
                events[event_id] = event
        return events

    async def _confirmed(self, user: Principal, order_id: str) -> tuple[Order, Event]:
        order = await self._orders.get(user, order_id)
        if order.status != OrderStatus.CONFIRMED:
            raise Conflict("this order has no tickets (it is not confirmed)")
        event = await self._catalog.get_event(order.event_id)
        if event is None:
            raise NotFound(f"event {order.event_id} not found")
        return order, event

    async def pdf(self, user: Principal, order_id: str) -> bytes:
        order, event = await self._confirmed(user, order_id)
        admitted = await self._door.checked_in(order)
        names = {t.id: t.name for t in event.ticket_types}
        v = event.venue
        where = ", ".join(p for p in (v.name, v.address, v.city, v.country) if p)
        when = venue_time(event.starts_at, v.timezone)
        return self._render_pdf([TicketSheet(
            event_name=event.name, when=when, venue=where,
            ticket_type=names.get(t.ticket_type_id, "Ticket"),
            state="checked in" if t.id in admitted else "valid",
            code=self._door.code_of(t.id, t.event_id), reference=t.code, order_id=order.id,
        ) for t in order.tickets])

    async def calendar(self, user: Principal, order_id: str, url: str) -> str:
        order, event = await self._confirmed(user, order_id)
        return ics.order_calendar(order, event, url)
