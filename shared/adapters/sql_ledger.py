"""Ledger, UserRepository and SessionRepository on SQL (SQLAlchemy Core).

The same statements run on SQLite (local) and SQL Server (Azure, mssql+pyodbc). Calls run
in worker threads (``asyncio.to_thread``) because the drivers are blocking.

The ``orders`` row is the arbiter of an order's fate: finalize, the dead-letter handler and
the reconciler all race to insert it, ``orders.id`` and ``orders.hold_id`` are unique, and
whoever loses reads the winner's row.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from shared import ids
from shared.adapters import sql_email_outbox, sql_migrations
from shared.adapters.azure_sql import create_azure_sql_engine, is_transient
from shared.adapters.sql_console_schema import refunded_tickets, refunds
from shared.adapters.sql_reads import READ_ONLY, reading
from shared.adapters.sql_schema import (
    audit_log,
    orders,
    payments,
    sessions,
    ticket_checkins,
    ticket_inventory,
    tickets,
    users,
)
from shared.errors import LedgerBatchRefused, LedgerSoldOut
from shared.models import (
    Charge,
    InventoryLine,
    Order,
    OrderPage,
    OrderStatus,
    PaymentRequest,
    Principal,
    Ticket,
    User,
)
from shared.ports import Sale
from shared.settings import Settings

T = TypeVar("T")
log = logging.getLogger(__name__)
_IN_CHUNK = 500  # ids per IN (...) list

# The statements of the hot reads (the order page, finalize's duplicate check), built once:
# building a Select per call cost four times its execution on SQLite (docs/architecture.md
# §8); the compiled form is cached by SQLAlchemy either way.
_ORDER_BY_ID = sa.select(orders).where(orders.c.id == sa.bindparam("key"))
_ORDER_BY_HOLD = sa.select(orders).where(orders.c.hold_id == sa.bindparam("key"))
_TICKETS_OF = (sa.select(tickets).where(tickets.c.order_id == sa.bindparam("order_id"))
               .order_by(tickets.c.id))
# The order page's read: the order with the amount refunded, then its tickets, each with its
# refund and its check-in (two statements in one transaction, where the page's three reads
# took five statements in three).
_ORDER_PAGE = sa.select(
    orders, sa.select(sa.func.sum(refunds.c.amount)).where(refunds.c.order_id == orders.c.id)
    .scalar_subquery().label("refunded_amount"),
).where(orders.c.id == sa.bindparam("key"))
_TICKETS_OF_PAGE = (
    sa.select(tickets, refunded_tickets.c.refund_id, ticket_checkins.c.checked_in_at)
    .select_from(tickets
                 .outerjoin(refunded_tickets, refunded_tickets.c.ticket_id == tickets.c.id)
                 .outerjoin(ticket_checkins, ticket_checkins.c.ticket_id == tickets.c.id))
    .where(tickets.c.order_id == sa.bindparam("order_id"))
    .order_by(tickets.c.id))
_ORDERS_IN = sa.select(orders).where(orders.c.id.in_(sa.bindparam("ids", expanding=True)))
_TICKETS_OF_ORDERS = (sa.select(tickets)
                      .where(tickets.c.order_id.in_(sa.bindparam("ids", expanding=True)))
                      .order_by(tickets.c.id))


def create_engine(url: str, **kwargs: Any) -> sa.Engine:
    """An engine for ``url``. SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE so that
    concurrent writers queue instead of failing on lock upgrades."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, **kwargs)
    engine = sa.create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
    )

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event below opens transactions
        cur = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       "busy_timeout=30000"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _order_from(row: sa.Row[Any], ticket_rows: Sequence[sa.Row[Any]]) -> Order:
    return Order(
        id=row.id, hold_id=row.hold_id, event_id=row.event_id, user_id=row.user_id,
        status=OrderStatus(row.status), reason=row.reason, total=int(row.total),
        currency=row.currency, created_at=int(row.created_at),
        tickets=tuple(
            Ticket(id=t.id, order_id=t.order_id, event_id=t.event_id,
                   ticket_type_id=t.ticket_type_id, code=t.code, seat_id=t.seat_id)
            for t in ticket_rows
        ),
    )


def order_row(r: PaymentRequest, status: OrderStatus, reason: str | None,
              now: int) -> dict[str, Any]:
    """The ``orders`` row of a payment message's order (also written by ``sql_holds``)."""
    return {"id": r.order_id, "hold_id": r.hold_id, "user_id": r.user_id,
            "event_id": r.event_id, "status": status.value, "reason": reason,
            "total": r.amount, "currency": r.currency, "created_at": now}


def payment_row(r: PaymentRequest, charge: Charge, status: str, now: int) -> dict[str, Any]:
    """The ``payments`` row of a charge (or its refund) for the order of ``r``."""
    return {"id": ids.new_id(), "order_id": r.order_id,
            "idempotency_key": charge.idempotency_key, "charge_id": charge.id,
            "amount": charge.amount, "currency": charge.currency, "status": status,
            "created_at": now}


def ticket_row(t: Ticket) -> dict[str, Any]:
    """The ``tickets`` row of a ticket."""
    return {"id": t.id, "order_id": t.order_id, "event_id": t.event_id,
            "ticket_type_id": t.ticket_type_id, "seat_id": t.seat_id, "code": t.code}


class SqlLedger:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> SqlLedger:
        return cls(create_engine(url))

    @classmethod
    def from_settings(cls, settings: Settings) -> SqlLedger:
        """Azure SQL with a managed identity when SQL_SERVER is set, else SQL_URL/SQLite."""
        if settings.sql_server and not settings.sql_url:
            return cls(create_azure_sql_engine(settings.sql_server, settings.sql_database))
        return cls.from_url(settings.effective_sql_url)

    async def _run(self, work: Callable[[], T]) -> T:
        """Run blocking work in a thread, retrying transient faults (failover, throttling,
        a busy SQLite file). Every unit of work is one transaction and idempotent on retry:
        a commit that happened before the link dropped shows up as the existing row."""
        delay = 0.2
        for attempt in range(4):
            try:
                return await asyncio.to_thread(work)
            except DBAPIError as exc:
                busy = "database is locked" in str(exc.orig)
                if attempt == 3 or not (busy or is_transient(exc)):
                    raise
                log.warning("ledger: transient fault (%s); retrying in %.1fs", exc.orig, delay)
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    async def run(self, work: Callable[[], T]) -> T:
        """``_run`` for the other SQL adapters sharing this engine (``sql_holds``)."""
        return await self._run(work)

    async def read(self, work: Callable[[], T]) -> T:
        """A short pure read (``reading()`` inside ``work``). On SQLite it runs right here on
        the event loop: in WAL mode a reader never waits for the write lock, and the query
        costs less than the thread hop and the GIL hand-offs it replaces (the on-sale profile,
        docs/architecture.md §8). Elsewhere (Azure SQL, a network round trip) a thread."""
        if self.engine.dialect.name == "sqlite":
            return work()
        return await self._run(work)

    async def migrate(self) -> list[int]:
        return await self._run(lambda: sql_migrations.migrate(self.engine))

    async def ping(self) -> None:
        def run() -> None:
            with self.engine.connect() as c:
                c.execute(sa.select(sa.literal(1)))

        await self._run(run)

    def close(self) -> None:
        self.engine.dispose()

    # ---- inventory -------------------------------------------------------------------

    async def create_inventory(self, lines: Sequence[InventoryLine]) -> None:
        def run() -> None:
            with self.engine.begin() as c:
                c.execute(
                    sa.insert(ticket_inventory),
                    [{"event_id": ln.event_id, "ticket_type_id": ln.ticket_type_id,
                      "capacity": ln.capacity, "sold": 0} for ln in lines],
                )

        await self._run(run)

    async def inventory(self, event_id: str) -> list[InventoryLine]:
        def run() -> list[InventoryLine]:
            ti = ticket_inventory
            with reading(self.engine) as c:
                rows = c.execute(
                    sa.select(ti.c.event_id, ti.c.ticket_type_id, ti.c.capacity, ti.c.sold,
                              ti.c.held_sql, ti.c.taken_sql, ti.c.held_redis)
                    .where(ti.c.event_id == event_id)
                    .order_by(ti.c.ticket_type_id)
                ).all()
            return [InventoryLine(r.event_id, r.ticket_type_id, r.capacity, r.sold,
                                  r.held_sql, r.taken_sql, r.held_redis) for r in rows]

        return await self._run(run)

    async def change_capacity(self, event_id: str, ticket_type_id: str, delta: int) -> bool:
        def run() -> bool:
            ti = ticket_inventory
            with self.engine.begin() as c:
                done = c.execute(
                    sa.update(ti)
                    .where(ti.c.event_id == event_id, ti.c.ticket_type_id == ticket_type_id,
                           ti.c.capacity + delta >= ti.c.sold)
                    .values(capacity=ti.c.capacity + delta)
                ).rowcount
                if done:
                    return True
                exists = c.execute(sa.select(ti.c.capacity).where(
                    ti.c.event_id == event_id, ti.c.ticket_type_id == ticket_type_id)).first()
                if exists is not None or delta < 0:
                    return False
                c.execute(sa.insert(ti).values(event_id=event_id, ticket_type_id=ticket_type_id,
                                               capacity=delta, sold=0))
                return True

        return await self._run(run)

    async def event_ids(self) -> list[str]:
        def run() -> list[str]:
            with reading(self.engine) as c:
                rows = c.execute(
                    sa.select(ticket_inventory.c.event_id).distinct().order_by(
                        ticket_inventory.c.event_id
                    )
                ).all()
            return [r.event_id for r in rows]

        return await self._run(run)

    # ---- orders ----------------------------------------------------------------------

    def _order(self, c: sa.Connection, order_id: str | None = None,
               hold_id: str | None = None) -> Order | None:
        row = c.execute(_ORDER_BY_ID if order_id else _ORDER_BY_HOLD,
                        {"key": order_id or hold_id}).first()
        if row is None:
            return None
        return _order_from(row, c.execute(_TICKETS_OF, {"order_id": row.id}).all())

    def _existing(self, request: PaymentRequest) -> Order | None:
        with reading(self.engine) as c:
            return self._order(c, order_id=request.order_id) or self._order(
                c, hold_id=request.hold_id
            )

    async def get_order(self, order_id: str) -> Order | None:
        def run() -> Order | None:
            with reading(self.engine) as c:
                return self._order(c, order_id=order_id)

        return await self.read(run)

    async def order_page(self, order_id: str) -> OrderPage | None:
        def run() -> OrderPage | None:
            with reading(self.engine) as c:
                row = c.execute(_ORDER_PAGE, {"key": order_id}).first()
                if row is None:
                    return None
                ticket_rows = c.execute(_TICKETS_OF_PAGE, {"order_id": order_id}).all()
            order = _order_from(row, ticket_rows)
            voided = {t.id for t in ticket_rows if t.refund_id is not None}
            if voided:  # as ports_console.with_refunds: marked tickets, the amount returned
                order = replace(order, refunded=int(row.refunded_amount or 0), tickets=tuple(
                    replace(t, status="refunded") if t.id in voided else t
                    for t in order.tickets))
            return OrderPage(order, {t.id: int(t.checked_in_at) for t in ticket_rows
                                     if t.checked_in_at is not None})

        return await self.read(run)

    async def get_orders(self, order_ids: Sequence[str]) -> dict[str, Order]:
        def run() -> dict[str, Order]:
            found: dict[str, Order] = {}
            with reading(self.engine) as c:
                # Chunks keep every statement under SQL Server's 2,100 parameters.
                for start in range(0, len(order_ids), _IN_CHUNK):
                    chunk = list(order_ids[start:start + _IN_CHUNK])
                    rows = c.execute(_ORDERS_IN, {"ids": chunk}).all()
                    if not rows:
                        continue
                    ticket_rows = c.execute(_TICKETS_OF_ORDERS,
                                            {"ids": [r.id for r in rows]}).all()
                    by_order: dict[str, list[sa.Row[Any]]] = {}
                    for t in ticket_rows:
                        by_order.setdefault(t.order_id, []).append(t)
                    found.update({r.id: _order_from(r, by_order.get(r.id, [])) for r in rows})
            return found

        return await self.read(run) if order_ids else {}

    async def orders_of_user(self, user_id: str, limit: int) -> list[Order]:
        def run() -> list[Order]:
            with reading(self.engine) as c:
                rows = c.execute(
                    sa.select(orders)
                    .where(orders.c.user_id == user_id)
                    .order_by(orders.c.created_at.desc(), orders.c.id)
                    .limit(limit)
                ).all()
                ids = [r.id for r in rows]
                ticket_rows = c.execute(
                    sa.select(tickets).where(tickets.c.order_id.in_(ids)).order_by(tickets.c.id)
                ).all() if ids else []
            by_order: dict[str, list[sa.Row[Any]]] = {}
            for t in ticket_rows:
                by_order.setdefault(t.order_id, []).append(t)
            return [_order_from(r, by_order.get(r.id, [])) for r in rows]

        return await self._run(run)

    async def record_confirmed(
        self, request: PaymentRequest, charge: Charge, new_tickets: Sequence[Ticket], now: int,
    ) -> Order:
        def run() -> Order:
            ti = ticket_inventory
            try:
                with self.engine.begin() as c:
                    c.execute(sa.insert(orders).values(
                        order_row(request, OrderStatus.CONFIRMED, None, now)))
                    for item in request.items:
                        # The WHERE guard answers "sold out" cleanly; the CHECK constraint
                        # refuses the same oversell should any statement ever skip the guard.
                        done = c.execute(
                            sa.update(ti)
                            .where(ti.c.event_id == request.event_id,
                                   ti.c.ticket_type_id == item.ticket_type_id,
                                   ti.c.sold + item.quantity <= ti.c.capacity)
                            .values(sold=ti.c.sold + item.quantity)
                        ).rowcount
                        if done != 1:
                            raise LedgerSoldOut(item.ticket_type_id)
                    c.execute(sa.insert(tickets), [ticket_row(t) for t in new_tickets])
                    c.execute(sa.insert(payments).values(
                        payment_row(request, charge, "charged", now)))
                    sql_email_outbox.enqueue_order_confirmation(c, request.order_id, now)
            except IntegrityError as exc:
                existing = self._existing(request)
                if existing is not None:
                    return existing
                raise LedgerSoldOut(str(exc.orig)) from exc
            found = self._existing(request)
            assert found is not None
            return found

        return await self._run(run)

    async def record_confirmed_batch(self, sales: Sequence[Sale], now: int) -> list[Order]:
        def run() -> list[Order]:
            ti = ticket_inventory
            per_type: dict[tuple[str, str], int] = {}
            for sale in sales:
                for item in sale.request.items:
                    key = (sale.request.event_id, item.ticket_type_id)
                    per_type[key] = per_type.get(key, 0) + item.quantity
            try:
                with self.engine.begin() as c:
                    c.execute(sa.insert(orders), [
                        order_row(s.request, OrderStatus.CONFIRMED, None, now)
                        for s in sales])
                    # One guarded update per ticket type (sorted: a stable lock order).
                    for (event_id, type_id), quantity in sorted(per_type.items()):
                        done = c.execute(
                            sa.update(ti)
                            .where(ti.c.event_id == event_id, ti.c.ticket_type_id == type_id,
                                   ti.c.sold + quantity <= ti.c.capacity)
                            .values(sold=ti.c.sold + quantity)
                        ).rowcount
                        if done != 1:
                            raise LedgerBatchRefused(f"capacity guard refused {type_id}")
                    c.execute(sa.insert(tickets),
                              [ticket_row(t) for s in sales for t in s.tickets])
                    c.execute(sa.insert(payments), [
                        payment_row(s.request, s.charge, "charged", now)
                        for s in sales])
                    sql_email_outbox.enqueue_order_confirmations(
                        c, [s.request.order_id for s in sales], now)
            except IntegrityError as exc:  # an order that exists, or the CHECK constraint
                raise LedgerBatchRefused(str(exc.orig)) from exc
            return [
                Order(id=s.request.order_id, hold_id=s.request.hold_id,
                      event_id=s.request.event_id, user_id=s.request.user_id,
                      status=OrderStatus.CONFIRMED, reason=None, total=s.request.amount,
                      currency=s.request.currency, created_at=now,
                      tickets=tuple(sorted(s.tickets, key=lambda t: t.id)))
                for s in sales
            ]

        return await self._run(run) if sales else []

    async def record_failed(
        self, request: PaymentRequest, reason: str, now: int, refunded: Charge | None = None,
    ) -> Order:
        def run() -> Order:
            try:
                with self.engine.begin() as c:
                    c.execute(sa.insert(orders).values(
                        order_row(request, OrderStatus.FAILED, reason, now)))
                    if refunded is not None:
                        c.execute(sa.insert(payments).values(
                            payment_row(request, refunded, "refunded", now)))
            except IntegrityError:
                pass  # another handler decided first; its row stands
            found = self._existing(request)
            assert found is not None
            return found

        return await self._run(run)

    # ---- users and sessions ----------------------------------------------------------

    async def add_user(self, user: User) -> bool:
        def run() -> bool:
            try:
                with self.engine.begin() as c:
                    c.execute(sa.insert(users).values(
                        id=user.id, email=user.email, password_hash=user.password_hash,
                        display_name=user.display_name, role=user.role,
                        created_at=user.created_at))
            except IntegrityError:
                return False
            return True

        return await self._run(run)

    def _user(self, cond: sa.ColumnElement[bool]) -> User | None:
        with reading(self.engine) as c:
            r = c.execute(sa.select(users).where(cond)).first()
        if r is None:
            return None
        return User(id=r.id, email=r.email, display_name=r.display_name, role=r.role,
                    password_hash=r.password_hash, created_at=int(r.created_at))

    async def user_by_email(self, email: str) -> User | None:
        return await self._run(lambda: self._user(users.c.email == email))

    async def user_by_id(self, user_id: str) -> User | None:
        return await self._run(lambda: self._user(users.c.id == user_id))

    async def add_session(self, token_hash: str, principal: Principal, now: int) -> None:
        def run() -> None:
            with self.engine.begin() as c:
                c.execute(sa.insert(sessions).values(
                    token_hash=token_hash, user_id=principal.user_id, created_at=now,
                    expires_at=principal.expires_at, revoked_at=None))

        await self._run(run)

    async def session(self, token_hash: str, now: int) -> Principal | None:
        def run() -> Principal | None:
            with reading(self.engine) as c:
                r = c.execute(
                    sa.select(sessions.c.expires_at, users.c.id, users.c.email,
                              users.c.display_name, users.c.role)
                    .join(users, users.c.id == sessions.c.user_id)
                    .where(sessions.c.token_hash == token_hash,
                           sessions.c.revoked_at.is_(None),
                           sessions.c.expires_at > now)
                ).first()
            if r is None:
                return None
            return Principal(user_id=r.id, email=r.email, display_name=r.display_name,
                             role=r.role, expires_at=int(r.expires_at))

        return await self._run(run)

    async def revoke_session(self, token_hash: str, now: int) -> None:
        def run() -> None:
            with self.engine.begin() as c:
                c.execute(sa.update(sessions)
                          .where(sessions.c.token_hash == token_hash,
                                 sessions.c.revoked_at.is_(None))
                          .values(revoked_at=now))

        await self._run(run)

    async def revoke_user_sessions(self, user_id: str, now: int) -> list[str]:
        def run() -> list[str]:
            live = (sessions.c.user_id == user_id) & sessions.c.revoked_at.is_(None)
            with self.engine.begin() as c:
                hashes = [r.token_hash for r in c.execute(
                    sa.select(sessions.c.token_hash).where(live)).all()]
                c.execute(sa.update(sessions).where(live).values(revoked_at=now))
            return hashes

        return await self._run(run)

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        def run() -> None:
            with self.engine.begin() as c:
                c.execute(sa.update(users).where(users.c.id == user_id)
                          .values(password_hash=password_hash))

        await self._run(run)

    # ---- audit -----------------------------------------------------------------------

    async def record_audit(self, actor_id: str, action: str, target: str,
                           detail: dict[str, Any], now: int) -> None:
        def run() -> None:
            with self.engine.begin() as c:
                c.execute(sa.insert(audit_log).values(
                    id=ids.new_id(), at=now, actor_id=actor_id, action=action,
                    target=target, detail=json.dumps(detail, default=str)))

        await self._run(run)

    async def audit_entries(self, limit: int) -> list[dict[str, Any]]:
        def run() -> list[dict[str, Any]]:
            with reading(self.engine) as c:
                rows = c.execute(sa.select(audit_log).order_by(audit_log.c.at.desc(),
                                                               audit_log.c.id).limit(limit)).all()
            return [{"id": r.id, "at": int(r.at), "actor_id": r.actor_id, "action": r.action,
                     "target": r.target, "detail": json.loads(r.detail)} for r in rows]

        return await self._run(run)
