"""Inventory: loading an event's rules and availability into the live store, and reading it.

The ledger owns capacity and sold; the catalog owns prices, currency, the per-user limit and
the status. Loading combines them into the Redis keys the hold script reads, so a hold never
touches SQL or the catalog store.
"""

from __future__ import annotations

from shared.errors import NotFound
from shared.models import Event
from shared.ports import CatalogStore, EventRules, InventoryStore, Ledger


def rules_of(event: Event) -> EventRules:
    return EventRules(currency=event.currency, per_user_limit=event.per_user_limit,
                      status=event.status, prices={t.id: t.price for t in event.ticket_types})


class InventoryService:
    def __init__(self, store: InventoryStore, ledger: Ledger, catalog: CatalogStore) -> None:
        self._store = store
        self._ledger = ledger
        self._catalog = catalog

    async def load(self, event_id: str, *, replace: bool = False) -> bool:
        """Load the event into the store; False when the event is unknown to catalog or ledger."""
        event = await self._catalog.get_event(event_id)
        lines = await self._ledger.inventory(event_id) if event else []
        if event is None or not lines:
            return False
        await self._store.load(event_id, rules_of(event), lines, replace=replace)
        return True

    async def update_rules(self, event: Event) -> None:
        """After an edit: prices, limit and status take effect for the next hold."""
        await self._store.set_rules(event.id, rules_of(event))

    async def availability(self, event_id: str) -> dict[str, int]:
        found = await self._store.availability(event_id)
        if found is None:
            if not await self.load(event_id):
                raise NotFound(f"event {event_id} not found")
            found = await self._store.availability(event_id) or {}
        return found
