"""DoorLedger on SQL: door-staff grants and exactly-once ticket check-ins.

Check-in is one insert into ``ticket_checkins`` keyed by the ticket id: the database lets
exactly one of any number of concurrent scans of a ticket in, and the others read the row
that won (who, when). Same statements on SQLite and SQL Server; runs through the ledger's
worker-thread-and-retry helper.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared.adapters.sql_console_schema import refunded_tickets
from shared.adapters.sql_ledger import SqlLedger
from shared.adapters.sql_reads import reading
from shared.adapters.sql_schema import event_staff, orders, ticket_checkins, tickets, users
from shared.door import DoorCounts, Scan, ScanResult, StaffMember
from shared.models import OrderStatus

# The order page's check-in read, built once (see sql_ledger's hot reads).
_CHECKINS_OF = (sa.select(ticket_checkins.c.ticket_id, ticket_checkins.c.checked_in_at)
                .where(ticket_checkins.c.ticket_id.in_(sa.bindparam("ids", expanding=True))))

class SqlDoor:
    def __init__(self, ledger: SqlLedger) -> None:
        self._ledger = ledger
        self.engine = ledger.engine

    # ---- staff -------------------------------------------------------------------

    async def add_staff(self, event_id: str, user_id: str, granted_by: str, now: int) -> bool:
        def run() -> bool:
            try:
                with self.engine.begin() as c:
                    c.execute(sa.insert(event_staff).values(
                        event_id=event_id, user_id=user_id, granted_by=granted_by,
                        granted_at=now))
            except IntegrityError:
                return False  # already staff there
            return True

        return await self._ledger._run(run)

    async def remove_staff(self, event_id: str, user_id: str) -> bool:
        def run() -> bool:
            with self.engine.begin() as c:
                return bool(c.execute(sa.delete(event_staff).where(
                    event_staff.c.event_id == event_id,
                    event_staff.c.user_id == user_id)).rowcount)

        return await self._ledger._run(run)

    async def staff_of_event(self, event_id: str) -> list[StaffMember]:
        def run() -> list[StaffMember]:
            with reading(self.engine) as c:
                rows = c.execute(
                    sa.select(users.c.id, users.c.email, users.c.display_name,
                              event_staff.c.granted_at)
                    .join(users, users.c.id == event_staff.c.user_id)
                    .where(event_staff.c.event_id == event_id)
                    .order_by(event_staff.c.granted_at, users.c.id)).all()
            return [StaffMember(r.id, r.email, r.display_name, int(r.granted_at)) for r in rows]

        return await self._ledger._run(run)

    async def events_of_staff(self, user_id: str) -> list[str]:
        def run() -> list[str]:
            with reading(self.engine) as c:
                rows = c.execute(sa.select(event_staff.c.event_id)
                                 .where(event_staff.c.user_id == user_id)
                                 .order_by(event_staff.c.granted_at)).all()
            return [r.event_id for r in rows]

        return await self._ledger._run(run)

    async def is_staff(self, event_id: str, user_id: str) -> bool:
        def run() -> bool:
            with reading(self.engine) as c:
                return c.execute(sa.select(event_staff.c.user_id).where(
                    event_staff.c.event_id == event_id,
                    event_staff.c.user_id == user_id)).first() is not None

        return await self._ledger._run(run)

    # ---- check-in ----------------------------------------------------------------

    def _earlier(self, ticket: Any) -> Scan:
        with self.engine.begin() as c:
            row = c.execute(
                sa.select(ticket_checkins.c.checked_in_at, users.c.display_name)
                .join(users, users.c.id == ticket_checkins.c.checked_in_by)
                .where(ticket_checkins.c.ticket_id == ticket.id)).one()
        return Scan(ScanResult.ALREADY_CHECKED_IN, ticket.id, ticket.event_id,
                    ticket.ticket_type_id, int(row.checked_in_at), row.display_name)

    async def check_in(self, ticket_id: str, event_id: str, by: str, now: int) -> Scan:
        def run() -> Scan:
            with self.engine.begin() as c:
                ticket = c.execute(
                    sa.select(tickets.c.id, tickets.c.event_id, tickets.c.ticket_type_id,
                              orders.c.status, refunded_tickets.c.refund_id)
                    .join(orders, orders.c.id == tickets.c.order_id)
                    # A ticket the organiser refunded on its own (issue 15) admits no one.
                    .outerjoin(refunded_tickets, refunded_tickets.c.ticket_id == tickets.c.id)
                    .where(tickets.c.id == ticket_id)).first()
                by_name = c.execute(sa.select(users.c.display_name)
                                    .where(users.c.id == by)).scalar_one()
            if ticket is None:
                return Scan(ScanResult.UNKNOWN_TICKET, ticket_id, event_id)
            if ticket.event_id != event_id:
                return Scan(ScanResult.WRONG_EVENT, ticket.id, ticket.event_id,
                            ticket.ticket_type_id)
            if ticket.status != OrderStatus.CONFIRMED.value or ticket.refund_id is not None:
                return Scan(ScanResult.REFUNDED, ticket.id, ticket.event_id,
                            ticket.ticket_type_id)
            try:
                with self.engine.begin() as c:
                    c.execute(sa.insert(ticket_checkins).values(
                        ticket_id=ticket.id, event_id=ticket.event_id, checked_in_at=now,
                        checked_in_by=by))
            except IntegrityError:
                return self._earlier(ticket)
            return Scan(ScanResult.ADMITTED, ticket.id, ticket.event_id,
                        ticket.ticket_type_id, now, by_name)

        return await self._ledger._run(run)

    async def door_counts(self, event_id: str) -> DoorCounts:
        def run() -> DoorCounts:
            with reading(self.engine) as c:
                checked_in = c.execute(sa.select(sa.func.count()).select_from(ticket_checkins)
                                       .where(ticket_checkins.c.event_id == event_id)
                                       ).scalar_one()
                sold = c.execute(
                    sa.select(sa.func.count()).select_from(
                        tickets.join(orders, orders.c.id == tickets.c.order_id)
                        .outerjoin(refunded_tickets,
                                   refunded_tickets.c.ticket_id == tickets.c.id))
                    .where(tickets.c.event_id == event_id,
                           orders.c.status == OrderStatus.CONFIRMED.value,
                           refunded_tickets.c.ticket_id.is_(None))).scalar_one()
            return DoorCounts(checked_in=int(checked_in), tickets=int(sold))

        return await self._ledger._run(run)

    async def checkins_of(self, ticket_ids: Sequence[str]) -> dict[str, int]:
        def run() -> dict[str, int]:
            if not ticket_ids:
                return {}
            with reading(self.engine) as c:
                rows = c.execute(_CHECKINS_OF, {"ids": list(ticket_ids)}).all()
            return {r.ticket_id: int(r.checked_in_at) for r in rows}

        return await self._ledger.read(run)
