"""Door check-in: organisers grant door staff per event; staff (and organisers) scan ticket
codes. A scan first checks the code's signature (no database needed, so a forged or altered
code is told apart at once), then asks the ledger to admit the ticket exactly once."""

from __future__ import annotations

from collections.abc import Callable

from shared import ids, ticket_codes
from shared.door import DoorCounts, Scan, ScanResult, StaffMember
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.models import Event, Order, Principal
from shared.ports import AuditLog, CatalogStore, DoorLedger, UserRepository
from shared.text_rules import canonical_email


class DoorService:
    def __init__(self, door: DoorLedger, users: UserRepository, catalog: CatalogStore,
                 audit: AuditLog, key: bytes, clock: Callable[[], int]) -> None:
        self._door = door
        self._users = users
        self._catalog = catalog
        self._audit = audit
        self._key = key
        self._clock = clock

    # ---- codes -------------------------------------------------------------------

    def code_of(self, ticket_id: str, event_id: str) -> str:
        """The signed code a ticket's QR code carries."""
        return ticket_codes.sign(self._key, ticket_id, event_id)

    async def checked_in(self, *orders: Order) -> dict[str, int]:
        """Ticket id -> check-in time for the orders' admitted tickets."""
        return await self._door.checkins_of([t.id for o in orders for t in o.tickets])

    # ---- staff -------------------------------------------------------------------

    async def _event(self, event_id: str) -> Event:
        event = await self._catalog.get_event(event_id) if ids.is_event_id(event_id) else None
        if event is None:
            raise NotFound(f"event {event_id} not found")
        return event

    async def grant(self, actor: Principal, event_id: str, email: str) -> StaffMember:
        await self._event(event_id)
        user = await self._users.user_by_email(canonical_email(email))
        if user is None:
            raise InvalidInput("no account has this email; ask them to register first",
                               field="email")
        now = self._clock()
        if await self._door.add_staff(event_id, user.id, actor.user_id, now):
            await self._audit.record_audit(actor.user_id, "event.staff.grant", event_id,
                                           {"user_id": user.id, "email": user.email}, now)
        return next(m for m in await self._door.staff_of_event(event_id) if m.user_id == user.id)

    async def revoke(self, actor: Principal, event_id: str, user_id: str) -> None:
        if not await self._door.remove_staff(event_id, user_id):
            raise NotFound("this user is not door staff at this event")
        await self._audit.record_audit(actor.user_id, "event.staff.revoke", event_id,
                                       {"user_id": user_id}, self._clock())

    async def staff(self, event_id: str) -> list[StaffMember]:
        await self._event(event_id)
        return await self._door.staff_of_event(event_id)

    async def events_to_scan(self, user: Principal) -> list[Event]:
        """The events whose door this user works (organisers: ask per event instead)."""
        events = []
        for event_id in await self._door.events_of_staff(user.user_id):
            event = await self._catalog.get_event(event_id)
            if event is not None:
                events.append(event)
        return events

    async def _may_scan(self, user: Principal, event_id: str) -> Event:
        event = await self._event(event_id)
        if not (user.is_admin or await self._door.is_staff(event_id, user.user_id)):
            raise Forbidden("door staff of this event only (an organiser grants it)")
        return event

    # ---- scanning ----------------------------------------------------------------

    async def scan(self, user: Principal, event_id: str, code: str) -> Scan:
        await self._may_scan(user, event_id)
        signed = ticket_codes.verify(self._key, code)
        if signed is None:
            return Scan(ScanResult.FORGED)
        if signed.event_id != event_id:
            return Scan(ScanResult.WRONG_EVENT, signed.ticket_id, signed.event_id)
        return await self._door.check_in(signed.ticket_id, event_id, user.user_id,
                                         self._clock())

    async def counts(self, user: Principal, event_id: str) -> DoorCounts:
        await self._may_scan(user, event_id)
        return await self._door.door_counts(event_id)
