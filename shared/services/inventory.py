"""Inventory: loading an event's rules and availability into the live store, and reading it.

The ledger owns capacity and sold; the catalog owns prices, currency, the per-user limit and
the status. Loading combines them into the Redis keys the hold script reads, so a hold never
touches SQL or the catalog store. While Redis is unreachable, availability is what the
ledger may still sell in degraded mode, and rule edits wait for the recovery merge, which
reloads every event's rules.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from shared.errors import Conflict, NotFound, StoreUnavailable
from shared.models import Event
from shared.ports import CatalogStore, EventRules, InventoryStore, Ledger

# Longer than a capacity edit takes even on a busy host (a few SQL and Redis calls and one
# catalog write, retried at most three times); it only matters if the holder dies.
CAPACITY_LOCK_MS = 30_000


def rules_of(event: Event) -> EventRules:
    return EventRules(
        currency=event.currency, per_user_limit=event.per_user_limit, status=event.status,
        prices={t.id: t.price for t in event.ticket_types},
        promos={o.code: json.dumps({"kind": o.kind, "value": o.value,
                                    "valid_from": o.valid_from, "valid_to": o.valid_to,
                                    "max_uses": o.max_uses})
                for o in event.offers if o.active},
        retired_promos=tuple(o.code for o in event.offers if not o.active),
    )


log = logging.getLogger(__name__)
Fallback = Callable[[str], Awaitable[dict[str, int] | None]]


class InventoryService:
    def __init__(self, store: InventoryStore, ledger: Ledger, catalog: CatalogStore,
                 degraded_availability: Fallback | None = None) -> None:
        self._store = store
        self._ledger = ledger
        self._catalog = catalog
        self._degraded_availability = degraded_availability
        # Set by the runtime to the waiting list's offer step (issue 16): a capacity raise
        # gives its new tickets to the people waiting first.
        self.tickets_returned: Callable[[str], Awaitable[None]] | None = None

    async def load(self, event_id: str, *, replace: bool = False) -> bool:
        """Load the event into the store; False when the event is unknown to catalog or ledger."""
        event = await self._catalog.get_event(event_id)
        lines = await self._ledger.inventory(event_id) if event else []
        if event is None or not lines:
            return False
        rules = rules_of(event)
        await self._store.load(event_id, rules, lines, replace=replace)
        if rules.promos:
            await self._store.set_rules(event_id, rules)  # load.lua knows prices, not offers
        return True

    async def update_rules(self, event: Event) -> None:
        """After an edit: prices, limit and status take effect for the next hold."""
        try:
            await self._store.set_rules(event.id, rules_of(event))
        except StoreUnavailable:  # degraded holds read the catalog; recovery reloads rules
            log.warning("inventory: rules of %s reach Redis when it is back", event.id)

    async def refresh_rules(self, event_id: str) -> None:
        """Copy the catalog's rules of a loaded event into the store (recovery merge)."""
        event = await self._catalog.get_event(event_id)
        if event is not None:
            await self._store.set_rules(event_id, rules_of(event))

    @contextlib.asynccontextmanager
    async def capacity_changes(self, event_id: str) -> AsyncIterator[None]:
        """Serialize capacity changes of one event: the catalog holds this across the whole
        edit (inventory and document), so no other capacity change interleaves with it."""
        lock = "capacity-lock:{" + event_id + "}"
        if not await self._store.lock(lock, CAPACITY_LOCK_MS):
            raise Conflict("another capacity change of this event is in progress; retry")
        try:
            yield
        finally:
            await self._store.unlock(lock)

    async def change_capacity(self, event_id: str, ticket_type_id: str, capacity: int,
                              price: int | None = None) -> None:
        """Make ``capacity`` tickets of the type exist (call inside ``capacity_changes``).
        Raising adds inventory at once; lowering below sold + held is refused (409). Redis
        and the ledger change together or not at all: the step that can refuse goes first and
        a failure of the second gives the first back."""
        current = {ln.ticket_type_id: ln.capacity
                   for ln in await self._ledger.inventory(event_id)}
        delta = capacity - current.get(ticket_type_id, 0)
        if delta < 0:
            # Redis knows what is held: take the tickets there first, atomically.
            result = await self._store.change_capacity(event_id, ticket_type_id, delta)
            if result.error == "not_loaded" and await self.load(event_id):
                result = await self._store.change_capacity(event_id, ticket_type_id, delta)
            if not result.ok:
                raise Conflict(f"only {result.get('available')} tickets of this type are "
                               "unsold and unheld; capacity cannot drop below sold + held",
                               field="capacity")
            try:
                lowered = await self._ledger.change_capacity(event_id, ticket_type_id, delta)
            except BaseException:
                await self._store.change_capacity(event_id, ticket_type_id, -delta)
                raise
            if not lowered:
                await self._store.change_capacity(event_id, ticket_type_id, -delta)
                raise Conflict("capacity cannot drop below the tickets sold", field="capacity")
        elif delta > 0 or ticket_type_id not in current:
            # The ledger first: a sale of the new tickets must find them there.
            await self._ledger.change_capacity(event_id, ticket_type_id, delta)
            try:
                await self._store.change_capacity(event_id, ticket_type_id, delta, price)
            except BaseException:
                await self._ledger.change_capacity(event_id, ticket_type_id, -delta)
                raise
            if delta > 0 and self.tickets_returned is not None:
                await self.tickets_returned(event_id)

    async def availability(self, event_id: str) -> dict[str, int]:
        try:
            found = await self._store.availability(event_id)
        except StoreUnavailable:
            if self._degraded_availability is None:
                raise
            found = await self._degraded_availability(event_id)
            if found is None:
                raise NotFound(f"event {event_id} not found") from None
            return found
        if found is None:
            if not await self.load(event_id):
                raise NotFound(f"event {event_id} not found")
            found = await self._store.availability(event_id) or {}
        return found
