"""The organiser console's ledger queries and refunds on SQL (SQLAlchemy Core).

Shares the ledger's engine and its retry of transient faults. Sales figures come from
``ticket_inventory`` and ``orders``; orders are listed newest first by keyset (``created_at``,
``id``), never by offset, so page 5,000 costs what page 1 does; a refund voids tickets, takes
them off ``sold`` under a guard and records itself in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared.adapters.sql_console_schema import event_cancellations, refunded_tickets, refunds
from shared.adapters.sql_ledger import SqlLedger
from shared.adapters.sql_reads import reading
from shared.adapters.sql_schema import (
    audit_log,
    orders,
    payments,
    sql_holds,
    ticket_inventory,
    tickets,
    users,
)
from shared.errors import Conflict, InvalidInput, NotFound
from shared.models import Charge, InventoryLine, OrderStatus
from shared.ports_console import (
    CancellationJob,
    EventTotals,
    OrderRow,
    Refund,
    RefundState,
    SalesPoint,
)

MINUTE_MS = 60_000
CONFIRMED = OrderStatus.CONFIRMED.value


def _literal(text: str) -> str:
    """``text`` for a LIKE pattern, matched literally (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(text: str) -> str:
    """A LIKE prefix pattern matching ``text`` literally."""
    return _literal(text) + "%"


# The order page's refund reads, built once (see sql_ledger's hot reads).
_REFUNDED_AMOUNTS = (
    sa.select(refunds.c.order_id, sa.func.sum(refunds.c.amount).label("a"))
    .where(refunds.c.order_id.in_(sa.bindparam("ids", expanding=True)))
    .group_by(refunds.c.order_id))
_REFUNDED_TICKETS = (
    sa.select(refunded_tickets.c.order_id, refunded_tickets.c.ticket_id)
    .where(refunded_tickets.c.order_id.in_(sa.bindparam("ids", expanding=True))))

class SqlConsole:
    def __init__(self, ledger: SqlLedger) -> None:
        self._ledger = ledger
        self.engine = ledger.engine

    # ---- sales -----------------------------------------------------------------------

    async def event_totals(self, event_ids: Sequence[str]) -> dict[str, EventTotals]:
        def run() -> dict[str, EventTotals]:
            if not event_ids:
                return {}
            ti = ticket_inventory
            with reading(self.engine) as c:
                inv = c.execute(
                    sa.select(ti.c.event_id, sa.func.sum(ti.c.capacity).label("capacity"),
                              sa.func.sum(ti.c.sold).label("sold"))
                    .where(ti.c.event_id.in_(event_ids)).group_by(ti.c.event_id)).all()
                paid = c.execute(
                    sa.select(orders.c.event_id, sa.func.sum(orders.c.total).label("total"),
                              sa.func.count().label("n"))
                    .where(orders.c.event_id.in_(event_ids), orders.c.status == CONFIRMED)
                    .group_by(orders.c.event_id)).all()
                back = c.execute(
                    sa.select(refunds.c.event_id, sa.func.sum(refunds.c.amount).label("amount"))
                    .where(refunds.c.event_id.in_(event_ids)).group_by(refunds.c.event_id)
                ).all()
            refunded = {r.event_id: int(r.amount or 0) for r in back}
            sales = {r.event_id: (int(r.total or 0), int(r.n)) for r in paid}
            out: dict[str, EventTotals] = {}
            for r in inv:
                total, n = sales.get(r.event_id, (0, 0))
                out[r.event_id] = EventTotals(
                    capacity=int(r.capacity or 0), sold=int(r.sold or 0),
                    revenue=total - refunded.get(r.event_id, 0), orders=n)
            return out

        return await self._ledger._run(run)

    async def sold_and_confirmed(self, event_id: str, hold_ids: Sequence[str]
                                 ) -> tuple[list[InventoryLine], set[str]]:
        def run() -> tuple[list[InventoryLine], set[str]]:
            ti = ticket_inventory
            # Both reads must see one state of the ledger: SQLite's write transaction does;
            # on SQL Server, SNAPSHOT isolation (on by default in Azure SQL Database) does.
            options: dict[str, Any] = ({"isolation_level": "SNAPSHOT"}
                                       if self.engine.dialect.name == "mssql" else {})
            with self.engine.connect().execution_options(**options) as c, c.begin():
                rows = c.execute(
                    sa.select(ti.c.event_id, ti.c.ticket_type_id, ti.c.capacity, ti.c.sold)
                    .where(ti.c.event_id == event_id).order_by(ti.c.ticket_type_id)).all()
                confirmed: set[str] = set()
                ids = list(hold_ids)
                for i in range(0, len(ids), 500):  # bounded IN lists
                    confirmed.update(r.hold_id for r in c.execute(
                        sa.select(orders.c.hold_id).where(orders.c.hold_id.in_(ids[i:i + 500]),
                                                          orders.c.status == CONFIRMED)).all())
            lines = [InventoryLine(r.event_id, r.ticket_type_id, int(r.capacity), int(r.sold))
                     for r in rows]
            return lines, confirmed

        return await self._ledger._run(run)

    async def sales_per_minute(self, event_id: str) -> list[SalesPoint]:
        def run() -> list[SalesPoint]:
            minute = (orders.c.created_at - orders.c.created_at % MINUTE_MS).label("minute")
            with reading(self.engine) as c:
                money = c.execute(
                    sa.select(minute, sa.func.sum(orders.c.total).label("revenue"))
                    .where(orders.c.event_id == event_id, orders.c.status == CONFIRMED)
                    .group_by(minute).order_by(minute)).all()
                tminute = (orders.c.created_at - orders.c.created_at % MINUTE_MS).label("minute")
                count = c.execute(
                    sa.select(tminute, sa.func.count(tickets.c.id).label("n"))
                    .select_from(tickets.join(orders, orders.c.id == tickets.c.order_id))
                    .where(orders.c.event_id == event_id, orders.c.status == CONFIRMED)
                    .group_by(tminute)).all()
            n = {int(r.minute): int(r.n) for r in count}
            return [SalesPoint(int(r.minute), n.get(int(r.minute), 0), int(r.revenue or 0))
                    for r in money]

        return await self._ledger._run(run)

    # ---- orders ----------------------------------------------------------------------

    async def event_orders(self, event_id: str, query: str, after: tuple[int, str] | None,
                           limit: int) -> list[OrderRow]:
        def run() -> list[OrderRow]:
            n_tickets = (sa.select(sa.func.count()).where(tickets.c.order_id == orders.c.id)
                         .scalar_subquery())
            n_refunded = (sa.select(sa.func.count())
                          .where(refunded_tickets.c.order_id == orders.c.id).scalar_subquery())
            refunded = (sa.select(sa.func.coalesce(sa.func.sum(refunds.c.amount), 0))
                        .where(refunds.c.order_id == orders.c.id).scalar_subquery())
            stmt = (sa.select(orders.c.id, users.c.email, orders.c.status, orders.c.total,
                              orders.c.currency, orders.c.created_at,
                              n_tickets.label("n_tickets"), n_refunded.label("n_refunded"),
                              refunded.label("refunded"))
                    .select_from(orders.join(users, users.c.id == orders.c.user_id))
                    .where(orders.c.event_id == event_id))
            q = query.strip().lower()
            if "@" in q:
                stmt = stmt.where(users.c.email.like(_like(q), escape="\\"))
            elif q:
                # The start of an email; or the start of an order id (with or without its
                # event part), or its end: ids begin with their creation time (ids.py), so
                # the console shows an order's last digits, which tell orders apart.
                bare = q.split(".", 1)[1] if q.startswith(event_id + ".") else q
                stmt = stmt.where(sa.or_(
                    users.c.email.like(_like(q), escape="\\"),
                    orders.c.id.like(_like(f"{event_id}.{bare}"), escape="\\"),
                    orders.c.id.like("%" + _literal(bare), escape="\\")))
            if after is not None:
                at, last = after
                stmt = stmt.where(sa.or_(orders.c.created_at < at,
                                         sa.and_(orders.c.created_at == at, orders.c.id > last)))
            stmt = stmt.order_by(orders.c.created_at.desc(), orders.c.id).limit(limit)
            with reading(self.engine) as c:
                rows = c.execute(stmt).all()
            return [OrderRow(id=r.id, email=r.email, status=r.status, tickets=int(r.n_tickets),
                             refunded_tickets=int(r.n_refunded), total=int(r.total),
                             refunded=int(r.refunded or 0), currency=r.currency,
                             created_at=int(r.created_at)) for r in rows]

        return await self._ledger._run(run)

    async def order_email(self, order_id: str) -> str | None:
        def run() -> str | None:
            with reading(self.engine) as c:
                row = c.execute(sa.select(users.c.email)
                                .select_from(orders.join(users, users.c.id == orders.c.user_id))
                                .where(orders.c.id == order_id)).first()
            return str(row.email) if row else None

        return await self._ledger._run(run)

    async def charge_of(self, order_id: str) -> Charge | None:
        def run() -> Charge | None:
            with reading(self.engine) as c:
                r = c.execute(sa.select(payments).where(payments.c.order_id == order_id,
                                                        payments.c.status == "charged")).first()
            if r is None:
                return None
            return Charge(id=r.charge_id, idempotency_key=r.idempotency_key,
                          amount=int(r.amount), currency=r.currency)

        return await self._ledger._run(run)

    # ---- refunds ---------------------------------------------------------------------

    def _refunds(self, c: sa.Connection, cond: sa.ColumnElement[bool],
                 limit: int | None = None) -> list[Refund]:
        stmt = (sa.select(refunds, orders.c.user_id)
                .select_from(refunds.join(orders, orders.c.id == refunds.c.order_id))
                .where(cond).order_by(refunds.c.created_at, refunds.c.id))
        rows = c.execute(stmt.limit(limit) if limit else stmt).all()
        ids = [r.id for r in rows]
        lines: dict[str, list[tuple[str, str]]] = {}
        if ids:
            for t in c.execute(sa.select(refunded_tickets)
                               .where(refunded_tickets.c.refund_id.in_(ids))
                               .order_by(refunded_tickets.c.ticket_id)).all():
                lines.setdefault(t.refund_id, []).append((t.ticket_id, t.ticket_type_id))
        return [Refund(id=r.id, order_id=r.order_id, event_id=r.event_id, user_id=r.user_id,
                       amount=int(r.amount), currency=r.currency, status=r.status,
                       tickets=tuple(lines.get(r.id, [])), actor_id=r.actor_id,
                       created_at=int(r.created_at)) for r in rows]

    async def create_refund(self, refund_id: str, order_id: str,
                            ticket_ids: Sequence[str] | None, prices: Mapping[str, int],
                            actor_id: str, now: int) -> Refund | None:
        def attempt() -> Refund | None:
            with self.engine.begin() as c:
                order = c.execute(sa.select(orders).where(orders.c.id == order_id)).first()
                if order is None:
                    raise NotFound("order not found")
                if order.status != CONFIRMED:
                    raise Conflict(f"only a confirmed order can be refunded (this one is "
                                   f"{order.status})", field="order_id")
                all_tickets = c.execute(sa.select(tickets.c.id, tickets.c.ticket_type_id)
                                        .where(tickets.c.order_id == order_id)).all()
                done = {r.ticket_id for r in c.execute(
                    sa.select(refunded_tickets.c.ticket_id)
                    .where(refunded_tickets.c.order_id == order_id)).all()}
                types = {t.id: t.ticket_type_id for t in all_tickets}
                wanted = list(types) if ticket_ids is None else list(dict.fromkeys(ticket_ids))
                unknown = [t for t in wanted if t not in types]
                if unknown:
                    raise InvalidInput(f"ticket {unknown[0]} is not part of this order",
                                       field="ticket_ids")
                chosen = [t for t in wanted if t not in done]
                if not chosen:
                    return None
                already = int(c.execute(
                    sa.select(sa.func.coalesce(sa.func.sum(refunds.c.amount), 0))
                    .where(refunds.c.order_id == order_id)).scalar_one())
                if len(chosen) + len(done) == len(types):
                    amount = int(order.total) - already  # the last refund returns the rest
                else:
                    # Lines' prices are not in the ledger; the split is pro rata to the
                    # current list prices (equal shares when every price is 0).
                    def weight(t: str) -> int:
                        return max(prices.get(types[t], 0), 0)

                    total_w = sum(weight(t) for t in types)
                    chosen_w = sum(weight(t) for t in chosen)
                    amount = (int(order.total) * chosen_w // total_w if total_w
                              else int(order.total) * len(chosen) // len(types))
                c.execute(sa.insert(refunds).values(
                    id=refund_id, order_id=order_id, event_id=order.event_id, amount=amount,
                    currency=order.currency, status="pending", actor_id=actor_id,
                    created_at=now, updated_at=now))
                c.execute(sa.insert(refunded_tickets), [
                    {"ticket_id": t, "refund_id": refund_id, "order_id": order_id,
                     "ticket_type_id": types[t]} for t in chosen])
                per_type: dict[str, int] = {}
                for t in chosen:
                    per_type[types[t]] = per_type.get(types[t], 0) + 1
                ti = ticket_inventory
                for type_id, n in per_type.items():
                    # Guarded like the sale: never below zero (and CHECK sold >= 0).
                    changed = c.execute(
                        sa.update(ti).where(ti.c.event_id == order.event_id,
                                            ti.c.ticket_type_id == type_id, ti.c.sold >= n)
                        .values(sold=ti.c.sold - n)).rowcount
                    if changed != 1:
                        raise Conflict(f"the ledger has fewer than {n} sold tickets of "
                                       f"{type_id}", field="ticket_ids")
                return self._refunds(c, refunds.c.id == refund_id)[0]

        def run() -> Refund | None:
            try:
                return attempt()
            except IntegrityError:
                # A concurrent refund voided some of these tickets first: decide again on
                # what is left (and answer "nothing left" if that was everything).
                return attempt()

        return await self._ledger._run(run)

    async def refunds_of(self, order_id: str) -> list[Refund]:
        def run() -> list[Refund]:
            with reading(self.engine) as c:
                return self._refunds(c, refunds.c.order_id == order_id)

        return await self._ledger._run(run)

    async def unfinished_refunds(self, limit: int) -> list[Refund]:
        def run() -> list[Refund]:
            with reading(self.engine) as c:
                return self._refunds(c, refunds.c.status != "done", limit)

        return await self._ledger._run(run)

    async def set_refund_status(self, refund_id: str, status: str, now: int) -> None:
        def run() -> None:
            with self.engine.begin() as c:
                c.execute(sa.update(refunds).where(refunds.c.id == refund_id)
                          .values(status=status, updated_at=now))

        await self._ledger._run(run)

    async def refund_states(self, order_ids: Sequence[str]) -> dict[str, RefundState]:
        def run() -> dict[str, RefundState]:
            ids = list(order_ids)
            amounts: dict[str, int] = {}
            voided: dict[str, set[str]] = {}
            with reading(self.engine) as c:
                for i in range(0, len(ids), 500):
                    part = ids[i:i + 500]
                    for r in c.execute(_REFUNDED_AMOUNTS, {"ids": part}).all():
                        amounts[r.order_id] = int(r.a or 0)
                    for t in c.execute(_REFUNDED_TICKETS, {"ids": part}).all():
                        voided.setdefault(t.order_id, set()).add(t.ticket_id)
            return {o: RefundState(amounts.get(o, 0), frozenset(voided.get(o, set())))
                    for o in set(amounts) | set(voided)}

        return await self._ledger.read(run)

    # ---- cancelling a whole event ----------------------------------------------------

    def _refundable(self) -> sa.ColumnElement[bool]:
        """A confirmed order with at least one ticket not yet refunded."""
        left = (sa.select(sa.func.count()).select_from(tickets)
                .where(tickets.c.order_id == orders.c.id,
                       ~sa.exists().where(refunded_tickets.c.ticket_id == tickets.c.id))
                .scalar_subquery())
        return sa.and_(orders.c.status == CONFIRMED, left > 0)

    async def start_cancellation(self, event_id: str, actor_id: str, now: int
                                 ) -> CancellationJob:
        def run() -> CancellationJob:
            try:
                with self.engine.begin() as c:
                    c.execute(sa.insert(event_cancellations).values(
                        event_id=event_id, status="running", actor_id=actor_id,
                        started_at=now, updated_at=now))
            except IntegrityError:
                pass  # started before: the same job continues
            job = self._job(event_id)
            assert job is not None
            return job

        return await self._ledger._run(run)

    def _job(self, event_id: str) -> CancellationJob | None:
        ec = event_cancellations
        with self.engine.begin() as c:
            row = c.execute(sa.select(ec).where(ec.c.event_id == event_id)).first()
            if row is None:
                return None
            total = int(c.execute(sa.select(sa.func.count()).select_from(orders).where(
                orders.c.event_id == event_id, orders.c.status == CONFIRMED)).scalar_one())
            left = int(c.execute(sa.select(sa.func.count()).select_from(orders).where(
                orders.c.event_id == event_id, self._refundable())).scalar_one())
        return CancellationJob(event_id=event_id, status=row.status, actor_id=row.actor_id,
                               orders=total, refunded=total - left,
                               started_at=int(row.started_at), updated_at=int(row.updated_at))

    async def cancellation(self, event_id: str) -> CancellationJob | None:
        return await self._ledger._run(lambda: self._job(event_id))

    async def running_cancellations(self) -> list[str]:
        def run() -> list[str]:
            ec = event_cancellations
            with reading(self.engine) as c:
                return [r.event_id for r in c.execute(
                    sa.select(ec.c.event_id).where(ec.c.status == "running")).all()]

        return await self._ledger._run(run)

    async def refundable_orders(self, event_id: str, after: str, limit: int) -> list[str]:
        def run() -> list[str]:
            with reading(self.engine) as c:
                return [r.id for r in c.execute(
                    sa.select(orders.c.id).where(orders.c.event_id == event_id,
                                                 orders.c.id > after, self._refundable())
                    .order_by(orders.c.id).limit(limit)).all()]

        return await self._ledger._run(run)

    async def active_sql_holds(self, event_id: str) -> int:
        def run() -> int:
            with reading(self.engine) as c:
                return int(c.execute(
                    sa.select(sa.func.count()).select_from(sql_holds)
                    .where(sql_holds.c.event_id == event_id,
                           sql_holds.c.status.in_(("held", "checkout")))).scalar_one())

        return await self._ledger._run(run)

    async def finish_cancellation(self, event_id: str, now: int) -> None:
        def run() -> None:
            ec = event_cancellations
            with self.engine.begin() as c:
                c.execute(sa.update(ec).where(ec.c.event_id == event_id)
                          .values(status="done", updated_at=now))

        await self._ledger._run(run)

    async def touch_cancellation(self, event_id: str, now: int) -> None:
        def run() -> None:
            ec = event_cancellations
            with self.engine.begin() as c:
                c.execute(sa.update(ec).where(ec.c.event_id == event_id)
                          .values(updated_at=now))

        await self._ledger._run(run)

    # ---- audit -----------------------------------------------------------------------

    async def audit_of(self, target_prefix: str, limit: int) -> list[dict[str, Any]]:
        """Audit entries whose target is ``target_prefix`` or starts with it (an event and
        its orders: order ids begin with their event's id), newest first."""
        def run() -> list[dict[str, Any]]:
            with reading(self.engine) as c:
                rows = c.execute(
                    sa.select(audit_log, users.c.email)
                    .select_from(audit_log.join(users, users.c.id == audit_log.c.actor_id))
                    .where(audit_log.c.target.like(_like(target_prefix), escape="\\"))
                    .order_by(audit_log.c.at.desc(), audit_log.c.id).limit(limit)).all()
            return [{"id": r.id, "at": int(r.at), "actor_id": r.actor_id, "actor": r.email,
                     "action": r.action, "target": r.target, "detail": json.loads(r.detail)}
                    for r in rows]

        return await self._ledger._run(run)
