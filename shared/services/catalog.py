"""Catalog: events as buyers browse them, and event creation for organisers.

Creating an event writes the ledger's ``ticket_inventory`` first (capacity is the ledger's
truth), then the catalog document, then loads Redis; a failure of the last step is healed
by the first hold or the reconciler, which load missing inventory. Editing capacities
changes the inventory first and the document second, and makes them agree again when the
document write fails (``CatalogService.update_event``, docs/architecture.md §3).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

from shared import ids
from shared.errors import Conflict, EditConflict, InvalidInput, NotFound
from shared.models import (
    Event,
    InventoryLine,
    Offer,
    Principal,
    QueueSettings,
    TicketType,
    Venue,
)
from shared.ports import AuditLog, CatalogStore, EventFilter, Ledger
from shared.services.inventory import InventoryService
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TicketTypeDraft:
    name: str
    price: int
    capacity: int


@dataclass(frozen=True)
class TicketTypeEdit:
    """A change to a ticket type; with ``id`` empty, a new type (name, price and capacity)."""

    id: str
    name: str | None = None
    price: int | None = None
    capacity: int | None = None


@dataclass(frozen=True)
class EventEdit:
    """Fields an organiser may change after creation; None keeps the current value.
    Capacities in ``ticket_types`` change the inventory too (``update_event``)."""

    name: str | None = None
    description: str | None = None
    category: str | None = None
    starts_at: datetime | None = None
    venue: Venue | None = None
    per_user_limit: int | None = None
    image_url: str | None = None
    status: str | None = None
    ticket_types: tuple[TicketTypeEdit, ...] = ()


STATUSES = {"draft", "on_sale", "cancelled"}
EDIT_ATTEMPTS = 3  # read-change-write rounds before a concurrent edit wins with a 409


@dataclass(frozen=True)
class EventDraft:
    name: str
    description: str
    category: str
    starts_at: datetime
    venue: Venue
    currency: str
    ticket_types: tuple[TicketTypeDraft, ...]
    per_user_limit: int | None = None
    image_url: str = ""
    status: str = "on_sale"


def utc_iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class CatalogService:
    def __init__(self, store: CatalogStore, ledger: Ledger, inventory: InventoryService,
                 settings: Settings, clock: Callable[[], int], audit: AuditLog,
                 source: CatalogStore | None = None) -> None:
        """``store`` serves reads and takes writes (a cache in front of the documents);
        ``source``, the store behind any cache, serves the reads an edit writes back."""
        self._store = store
        self._source = source or store
        self._ledger = ledger
        self._inventory = inventory
        self._settings = settings
        self._clock = clock
        self._audit = audit

    async def put_venue(self, venue: Venue, actor: Principal) -> Venue:
        """Create (empty id) or update a venue; events embedding it get the new copy."""
        is_new = not venue.id
        if is_new:
            venue = replace(venue, id=ids.new_id())
        elif await self._store.get_venue(venue.id) is None:
            raise NotFound(f"venue {venue.id} not found")
        saved = await self._store.put_venue(venue)
        if not is_new:
            cursor: str | None = None
            while True:
                events, cursor = await self._store.list_events(
                    EventFilter(venue_id=venue.id, listed_only=False), cursor, 100)
                for event in events:
                    await self._store.put_event(replace(event, venue=saved))
                if cursor is None:
                    break
        await self._audit.record_audit(actor.user_id, "venue.create" if is_new else
                                       "venue.update", saved.id, {"name": saved.name},
                                       self._clock())
        return saved

    async def get_venue(self, venue_id: str) -> Venue:
        venue = await self._store.get_venue(venue_id) if ids.is_event_id(venue_id) else None
        if venue is None:
            raise NotFound(f"venue {venue_id} not found")
        return venue

    async def create_event(self, draft: EventDraft, actor: Principal | None = None) -> Event:
        names = [t.name.strip().lower() for t in draft.ticket_types]
        if len(set(names)) != len(names):
            raise InvalidInput("ticket type names must be unique", field="ticket_types")
        now = self._clock()
        currency = draft.currency.upper()
        if draft.venue.id:  # an existing venue, by id
            venue = await self._store.get_venue(draft.venue.id)
            if venue is None:
                raise InvalidInput(f"unknown venue {draft.venue.id}", field="venue_id")
        else:  # a new venue, described inline: it becomes a venue of its own
            venue = await self._store.put_venue(replace(draft.venue, id=ids.new_id()))
        event = Event(
            id=ids.new_id(), name=draft.name.strip(), description=draft.description.strip(),
            category=draft.category.strip(), starts_at=utc_iso(draft.starts_at),
            venue=venue,
            ticket_types=tuple(
                TicketType(id=ids.new_id(), name=t.name.strip(), price=t.price,
                           currency=currency, capacity=t.capacity)
                for t in draft.ticket_types
            ),
            currency=currency,
            per_user_limit=draft.per_user_limit or self._settings.default_per_user_limit,
            image_url=draft.image_url, status=draft.status, created_at=now, updated_at=now,
        )
        await self._ledger.create_inventory([
            InventoryLine(event.id, t.id, t.capacity, 0) for t in event.ticket_types
        ])
        await self._store.put_event(event)
        try:
            await self._inventory.load(event.id, replace=True)
        except Exception:
            log.warning("catalog: inventory of %s not loaded now; the first hold loads it",
                        event.id, exc_info=True)
        if actor is not None:
            await self._audit.record_audit(actor.user_id, "event.create", event.id,
                                           {"name": event.name}, now)
        return event

    async def _read_for_edit(self, event_id: str) -> Event:
        """The document as stored, not as cached: its etag guards the write that follows."""
        event = await self._source.get_event(event_id) if ids.is_event_id(event_id) else None
        if event is None:
            raise NotFound(f"event {event_id} not found")
        return event

    async def _edit(self, event_id: str,
                    change: Callable[[Event], Awaitable[Event]]) -> Event:
        """Read, change, write back under the read's etag (inside ``change``); a concurrent
        edit of the same event makes the write fail, and the change runs again on the newer
        document."""
        for attempt in range(EDIT_ATTEMPTS):
            try:
                return await change(await self._read_for_edit(event_id))
            except EditConflict:
                if attempt == EDIT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def update_event(self, event_id: str, edit: EventEdit, actor: Principal) -> Event:
        """Apply an organiser's edit. With capacities in it, the whole edit runs under the
        event's capacity lock, inventory first (the step that refuses: below sold + held),
        then the document; if the document cannot be written, ``_settle_capacities`` makes
        inventory and document agree again before the error reaches the caller."""
        # New ticket types get their ids once: a retried write finds the inventory the
        # first attempt created instead of adding more.
        new_ids = [ids.new_id() for change in edit.ticket_types if not change.id]
        touched: dict[str, TicketType] = {}
        if not any(change.capacity is not None for change in edit.ticket_types):
            updated = await self._edit(
                event_id, lambda event: self._apply(event, edit, new_ids, touched))
        else:
            async with self._inventory.capacity_changes(event_id):
                try:
                    updated = await self._edit(
                        event_id, lambda event: self._apply(event, edit, new_ids, touched))
                except BaseException:
                    if touched:
                        await self._settle_capacities(event_id, touched)
                    raise
        await self._inventory.update_rules(updated)
        changes = {k: v for k, v in asdict(edit).items() if v not in (None, ())}
        await self._audit.record_audit(actor.user_id, "event.update", event_id, changes,
                                       updated.updated_at)
        return updated

    async def _apply(self, event: Event, edit: EventEdit, new_ids: list[str],
                     touched: dict[str, TicketType]) -> Event:
        """Validate the edit against ``event``, change the inventory, write the document
        under ``event``'s etag. ``touched`` collects the types whose capacity was set."""
        event_id = event.id
        types = {t.id: t for t in event.ticket_types}
        capacities: dict[str, int] = {}
        fresh = iter(new_ids)
        if edit.status is not None and edit.status not in STATUSES:
            raise InvalidInput(f"status must be one of {sorted(STATUSES)}", field="status")
        if event.status == "cancelled" and edit.status not in (None, "cancelled"):
            raise InvalidInput("a cancelled event stays cancelled", field="status")
        for i, change in enumerate(edit.ticket_types):
            if not change.id:
                if not change.name or change.price is None or change.capacity is None:
                    raise InvalidInput("a new ticket type needs name, price and capacity",
                                       field=f"ticket_types[{i}]")
                new = TicketType(next(fresh), change.name.strip(), change.price,
                                 event.currency, change.capacity)
                types[new.id] = new
                capacities[new.id] = change.capacity
                continue
            if change.id not in types:
                raise InvalidInput(f"unknown ticket type {change.id}",
                                   field=f"ticket_types[{i}].id")
            t = types[change.id]
            if change.capacity is not None:  # compared with the ledger, the capacity's home
                capacities[t.id] = change.capacity
            types[change.id] = replace(
                t, name=(change.name or t.name).strip(),
                price=t.price if change.price is None else change.price,
                capacity=t.capacity if change.capacity is None else change.capacity)
        names = [t.name.lower() for t in types.values()]
        if len(set(names)) != len(names):
            raise InvalidInput("ticket type names must be unique", field="ticket_types")
        for type_id, capacity in capacities.items():
            touched.setdefault(type_id, types[type_id])
            await self._inventory.change_capacity(event_id, type_id, capacity,
                                                  price=types[type_id].price)
        # The document copies the ledger's capacities, which also heals a document left
        # behind by an edit that could not settle (a crash between the two writes).
        ledger = {ln.ticket_type_id: ln.capacity for ln in await self._ledger.inventory(event_id)}
        venue = event.venue if edit.venue is None else replace(edit.venue, id=event.venue.id)
        updated = replace(
            event,
            name=(edit.name or event.name).strip(),
            description=event.description if edit.description is None else edit.description,
            category=event.category if edit.category is None else edit.category,
            starts_at=event.starts_at if edit.starts_at is None else utc_iso(edit.starts_at),
            venue=venue,
            per_user_limit=edit.per_user_limit or event.per_user_limit,
            image_url=event.image_url if edit.image_url is None else edit.image_url,
            status=event.status if edit.status is None else edit.status,
            ticket_types=tuple(replace(t, capacity=ledger.get(t.id, t.capacity))
                               for t in types.values()),
            updated_at=self._clock(),
        )
        return await self._store.put_event(updated, if_match=event.etag)

    async def _settle_capacities(self, event_id: str, touched: dict[str, TicketType]) -> None:
        """After a capacity edit failed, make inventory and document agree again on every
        type it touched. The stored document decides where the inventory can go back to it
        (the edit is undone); where it cannot (tickets of a raise are already held or sold),
        the document takes the ledger's figure. Failures here are logged, not raised: the
        caller is already raising the edit's own error."""
        try:
            for _ in range(EDIT_ATTEMPTS):
                event = await self._read_for_edit(event_id)
                in_doc = {t.id: t for t in event.ticket_types}
                ledger = {ln.ticket_type_id: ln.capacity
                          for ln in await self._ledger.inventory(event_id)}
                keep: dict[str, int] = {}
                for type_id in touched:
                    target = in_doc[type_id].capacity if type_id in in_doc else 0
                    if type_id not in ledger or ledger[type_id] == target:
                        continue
                    try:
                        await self._inventory.change_capacity(event_id, type_id, target)
                    except Conflict:
                        keep[type_id] = ledger[type_id]
                if not keep:
                    return
                types = [replace(t, capacity=keep.get(t.id, t.capacity))
                         for t in event.ticket_types]
                types += [replace(touched[i], capacity=c) for i, c in keep.items()
                          if i not in in_doc]
                try:
                    await self._store.put_event(
                        replace(event, ticket_types=tuple(types), updated_at=self._clock()),
                        if_match=event.etag)
                    return
                except EditConflict:
                    continue
            log.error("catalog: capacities of %s still differ from the ledger after a failed "
                      "edit (concurrent edits); the next edit copies the ledger's", event_id)
        except Exception:
            log.exception("catalog: capacities of %s could not be settled after a failed edit;"
                          " the next edit copies the ledger's", event_id)

    async def put_offer(self, event_id: str, offer: Offer, actor: Principal) -> Event:
        """Create or replace (by code) a promo code of the event; it applies to the next hold."""
        if offer.kind == "percent" and not 1 <= offer.value <= 100:
            raise InvalidInput("a percent offer is 1 to 100", field="value")
        if offer.valid_to and offer.valid_from and offer.valid_to <= offer.valid_from:
            raise InvalidInput("valid_to must be after valid_from", field="valid_to")
        offer = replace(offer, code=offer.code.upper())

        async def put(event: Event) -> Event:
            offers = (*(o for o in event.offers if o.code != offer.code), offer)
            return await self._store.put_event(
                replace(event, offers=offers, updated_at=self._clock()), if_match=event.etag)

        saved = await self._edit(event_id, put)
        await self._inventory.update_rules(saved)
        await self._audit.record_audit(actor.user_id, "offer.put", event_id,
                                       {"code": offer.code, "kind": offer.kind,
                                        "value": offer.value, "active": offer.active},
                                       self._clock())
        return saved

    async def put_queue(self, event_id: str, queue: QueueSettings) -> Event:
        """Store the event's waiting-room settings in its document (the durable copy that the
        hold path reads, also while Redis is down); the caller audits."""
        async def put(event: Event) -> Event:
            return await self._store.put_event(
                replace(event, queue=queue, updated_at=self._clock()), if_match=event.etag)

        return await self._edit(event_id, put)

    async def get_event(self, event_id: str) -> Event:
        event = await self._store.get_event(event_id) if ids.is_event_id(event_id) else None
        if event is None:
            raise NotFound(f"event {event_id} not found")
        return event

    async def list_events(
        self, *, q: str | None = None, city: str | None = None, category: str | None = None,
        starts_from: datetime | None = None, starts_to: datetime | None = None,
        limit: int = 20, cursor: str | None = None,
    ) -> tuple[list[Event], str | None]:
        filters = EventFilter(q=q or None, city=city or None, category=category or None,
                              starts_from=utc_iso(starts_from) if starts_from else None,
                              starts_to=utc_iso(starts_to) if starts_to else None)
        return await self._store.list_events(filters, cursor, limit)
