"""Degraded mode's SQL side (issue 12): holds, checkouts and the payments outbox in the
ledger while Redis is unreachable.

A hold is one transaction: a conditional update per ticket type that can never let
``sold + held_sql + held_redis + q`` pass ``capacity`` (``held_redis``: what Redis held when
the reconciler last looked), then the hold row. A checkout moves the hold to ``checkout``
and writes its payment message to ``payment_outbox`` in the same transaction; the relay
publishes what is not published yet. Confirming moves tickets from ``held_sql`` to ``sold``
under the ledger's usual guard (``sold + q <= capacity``); releasing gives them back
(``held_sql`` and ``taken_sql`` down), which ``lua/sync_sql.lua`` then returns to Redis.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared.adapters import sql_email_outbox
from shared.adapters.sql_ledger import SqlLedger, order_row, payment_row, ticket_row
from shared.adapters.sql_reads import reading
from shared.adapters.sql_schema import (
    orders,
    payment_outbox,
    payments,
    sql_holds,
    ticket_inventory,
    tickets,
)
from shared.errors import LedgerSoldOut
from shared.models import (
    Charge,
    Hold,
    HoldStatus,
    LineItem,
    Order,
    OrderStatus,
    PaymentRequest,
    Ticket,
)
from shared.ports import ScriptResult, SqlDue

ACTIVE = (HoldStatus.HELD.value, HoldStatus.CHECKOUT.value)


class _Refused(Exception):
    """Raised inside a hold's transaction to roll it back with the answer to give."""

    def __init__(self, result: ScriptResult) -> None:
        super().__init__(result.error)
        self.result = result


def _hold_from(row: sa.Row[Any]) -> Hold:
    return Hold(
        id=row.id, event_id=row.event_id, user_id=row.user_id, status=HoldStatus(row.status),
        items=tuple(LineItem(i["ticket_type_id"], int(i["quantity"]), int(i["unit_price"]))
                    for i in json.loads(row.items)),
        total=int(row.total), currency=row.currency, created_at=int(row.created_at),
        expires_at=int(row.expires_at), order_id=row.order_id,
        ended_at=int(row.ended_at) if row.ended_at is not None else None,
        end_reason=row.end_reason, promo_code=row.promo, discount=int(row.discount),
    )


class SqlHolds:
    """DegradedLedger on the ledger's engine."""

    def __init__(self, ledger: SqlLedger) -> None:
        self._ledger = ledger
        self._engine = ledger.engine

    # ---- holds -----------------------------------------------------------------------

    async def take_hold(self, hold: Hold, per_user_limit: int) -> ScriptResult:
        def run() -> ScriptResult:
            try:
                with self._engine.begin() as c:
                    self._take(c, hold, per_user_limit)
            except _Refused as refused:
                return refused.result
            return ScriptResult(True)

        return await self._ledger.run(run)

    def _take(self, c: sa.Connection, hold: Hold, per_user_limit: int) -> None:
        ti, h = ticket_inventory, sql_holds
        want = sum(i.quantity for i in hold.items)
        held = c.execute(sa.select(sa.func.coalesce(sa.func.sum(h.c.quantity), 0))
                         .where(h.c.user_id == hold.user_id, h.c.event_id == hold.event_id,
                                h.c.status.in_(ACTIVE))).scalar_one()
        bought = c.execute(
            sa.select(sa.func.count()).select_from(
                tickets.join(orders, orders.c.id == tickets.c.order_id))
            .where(orders.c.user_id == hold.user_id, orders.c.event_id == hold.event_id,
                   orders.c.status == OrderStatus.CONFIRMED.value)).scalar_one()
        if int(held) + int(bought) + want > per_user_limit:
            raise _Refused(ScriptResult(False, "per_user_limit",
                                        {"limit": per_user_limit, "held": held + bought}))
        for item in hold.items:
            done = c.execute(
                sa.update(ti)
                .where(ti.c.event_id == hold.event_id,
                       ti.c.ticket_type_id == item.ticket_type_id,
                       ti.c.sold + ti.c.held_sql + ti.c.held_redis + item.quantity
                       <= ti.c.capacity)
                .values(held_sql=ti.c.held_sql + item.quantity,
                        taken_sql=ti.c.taken_sql + item.quantity)
            ).rowcount
            if done != 1:
                row = c.execute(sa.select(ti).where(
                    ti.c.event_id == hold.event_id,
                    ti.c.ticket_type_id == item.ticket_type_id)).first()
                if row is None:
                    raise _Refused(ScriptResult(False, "unknown_ticket_type",
                                                {"ticket_type_id": item.ticket_type_id}))
                left = row.capacity - row.sold - row.held_sql - row.held_redis
                raise _Refused(ScriptResult(False, "sold_out", {
                    "ticket_type_id": item.ticket_type_id, "available": max(0, left)}))
        c.execute(sa.insert(h).values(
            id=hold.id, event_id=hold.event_id, user_id=hold.user_id,
            status=HoldStatus.HELD.value, quantity=want, total=hold.total,
            items=json.dumps([{"ticket_type_id": i.ticket_type_id, "quantity": i.quantity,
                               "unit_price": i.unit_price} for i in hold.items]),
            currency=hold.currency, promo=hold.promo_code, discount=hold.discount,
            created_at=hold.created_at, expires_at=hold.expires_at))

    def _get(self, c: sa.Connection, cond: sa.ColumnElement[bool]) -> Hold | None:
        row = c.execute(sa.select(sql_holds).where(cond)).first()
        return _hold_from(row) if row is not None else None

    async def get_hold(self, hold_id: str) -> Hold | None:
        def run() -> Hold | None:
            with reading(self._engine) as c:
                return self._get(c, sql_holds.c.id == hold_id)

        return await self._ledger.run(run)

    async def hold_of_order(self, order_id: str) -> Hold | None:
        def run() -> Hold | None:
            with reading(self._engine) as c:
                return self._get(c, sql_holds.c.order_id == order_id)

        return await self._ledger.run(run)

    def _end(self, c: sa.Connection, hold: Hold, status: HoldStatus, now: int,
             reason: str) -> bool:
        """Move an active hold to ``status`` (committed or released); False if it moved."""
        done = c.execute(sa.update(sql_holds)
                         .where(sql_holds.c.id == hold.id,
                                sql_holds.c.status == hold.status.value)
                         .values(status=status.value, ended_at=now, end_reason=reason)).rowcount
        if done != 1:
            return False
        if status == HoldStatus.RELEASED:
            ti = ticket_inventory
            for item in hold.items:
                c.execute(sa.update(ti)
                          .where(ti.c.event_id == hold.event_id,
                                 ti.c.ticket_type_id == item.ticket_type_id)
                          .values(held_sql=ti.c.held_sql - item.quantity,
                                  taken_sql=ti.c.taken_sql - item.quantity))
        return True

    async def release(self, hold_id: str, user_id: str | None, now: int, reason: str,
                      allow_checkout: bool) -> ScriptResult:
        """Errors as release.lua: not_found, in_checkout, committed (released: ok)."""
        def run() -> ScriptResult:
            with self._engine.begin() as c:
                hold = self._get(c, sql_holds.c.id == hold_id)
                if hold is None or (user_id is not None and hold.user_id != user_id):
                    return ScriptResult(False, "not_found")
                if hold.status == HoldStatus.RELEASED:
                    return ScriptResult(True, data={"already": True})
                if hold.status == HoldStatus.COMMITTED:
                    return ScriptResult(False, "committed")
                if hold.status == HoldStatus.CHECKOUT and not allow_checkout:
                    return ScriptResult(False, "in_checkout")
                if not self._end(c, hold, HoldStatus.RELEASED, now, reason):
                    return ScriptResult(False, "raced")
            return ScriptResult(True)

        return await self._ledger.run(run)

    async def checkout(self, hold_id: str, user_id: str, order_id: str, now: int,
                       pay_until: int, message: str) -> ScriptResult:
        """held -> checkout with ``order_id`` and the payment message in the outbox, in one
        transaction. A repeat answers the hold as it is (same order). Errors as
        checkout.lua: not_found, expired (released now), released."""
        def run() -> ScriptResult:
            with self._engine.begin() as c:
                hold = self._get(c, sql_holds.c.id == hold_id)
                if hold is None or hold.user_id != user_id:
                    return ScriptResult(False, "not_found")
                if hold.status == HoldStatus.HELD and hold.expires_at <= now:
                    self._end(c, hold, HoldStatus.RELEASED, now, "expired")
                    return ScriptResult(False, "expired")
                if hold.status == HoldStatus.RELEASED:
                    return ScriptResult(False, "released", {"reason": hold.end_reason or ""})
                if hold.status == HoldStatus.HELD:
                    c.execute(sa.update(sql_holds)
                              .where(sql_holds.c.id == hold_id,
                                     sql_holds.c.status == HoldStatus.HELD.value)
                              .values(status=HoldStatus.CHECKOUT.value, order_id=order_id,
                                      pay_until=pay_until))
                    c.execute(sa.insert(payment_outbox).values(
                        order_id=order_id, body=message, created_at=now, published_at=None))
                    hold = self._get(c, sql_holds.c.id == hold_id)
            return ScriptResult(True, data={"hold": hold})

        return await self._ledger.run(run)

    async def due(self, now: int, limit: int) -> SqlDue:
        """In one read: held SQL holds past their expiry, SQL checkouts past their payment
        window, and outbox messages not published yet (the reconciler's SQL-side work)."""
        def run() -> SqlDue:
            h, ob = sql_holds, payment_outbox
            with self._engine.begin() as c:
                expired = [r.id for r in c.execute(
                    sa.select(h.c.id)
                    .where(h.c.status == HoldStatus.HELD.value, h.c.expires_at <= now)
                    .order_by(h.c.expires_at).limit(limit)).all()]
                stuck = [_hold_from(r) for r in c.execute(
                    sa.select(h)
                    .where(h.c.status == HoldStatus.CHECKOUT.value, h.c.pay_until <= now)
                    .order_by(h.c.pay_until).limit(limit)).all()]
                unpublished = [(r.order_id, r.body) for r in c.execute(
                    sa.select(ob.c.order_id, ob.c.body).where(ob.c.published_at.is_(None))
                    .order_by(ob.c.created_at).limit(limit)).all()]
            return SqlDue(expired, stuck, unpublished)

        return await self._ledger.run(run)

    async def commit(self, hold_id: str, now: int) -> bool:
        """Mark a SQL hold committed (idempotent; the confirm transaction already does)."""
        def run() -> bool:
            with self._engine.begin() as c:
                hold = self._get(c, sql_holds.c.id == hold_id)
                if hold is None or hold.status not in (HoldStatus.CHECKOUT, HoldStatus.HELD):
                    return hold is not None and hold.status == HoldStatus.COMMITTED
                return self._end(c, hold, HoldStatus.COMMITTED, now, "paid")

        return await self._ledger.run(run)

    # ---- finalize ----------------------------------------------------------------------

    async def record_confirmed(self, request: PaymentRequest, charge: Charge,
                               new_tickets: Sequence[Ticket], now: int) -> Order:
        """As ``SqlLedger.record_confirmed``, for a SQL hold: its tickets move from
        ``held_sql`` to ``sold`` under ``sold + q <= capacity`` and the hold is committed,
        in the order's transaction. Raises LedgerSoldOut when the guard refuses or the hold
        is no longer in checkout; returns the existing order when one already exists."""
        def run() -> str | None:
            ti = ticket_inventory
            try:
                with self._engine.begin() as c:
                    c.execute(sa.insert(orders).values(
                        order_row(request, OrderStatus.CONFIRMED, None, now)))
                    moved = c.execute(sa.update(sql_holds)
                                      .where(sql_holds.c.id == request.hold_id,
                                             sql_holds.c.status == HoldStatus.CHECKOUT.value)
                                      .values(status=HoldStatus.COMMITTED.value, ended_at=now,
                                              end_reason="paid")).rowcount
                    if moved != 1:
                        raise LedgerSoldOut(f"hold {request.hold_id} is no longer in checkout")
                    for item in request.items:
                        done = c.execute(
                            sa.update(ti)
                            .where(ti.c.event_id == request.event_id,
                                   ti.c.ticket_type_id == item.ticket_type_id,
                                   ti.c.sold + item.quantity <= ti.c.capacity)
                            .values(sold=ti.c.sold + item.quantity,
                                    held_sql=ti.c.held_sql - item.quantity)
                        ).rowcount
                        if done != 1:
                            raise LedgerSoldOut(item.ticket_type_id)
                    c.execute(sa.insert(tickets), [ticket_row(t) for t in new_tickets])
                    c.execute(sa.insert(payments).values(
                        payment_row(request, charge, "charged", now)))
                    sql_email_outbox.enqueue_order_confirmation(c, request.order_id, now)
            except IntegrityError:
                pass  # another handler decided first: its row stands
            with self._engine.begin() as c:
                row = c.execute(sa.select(orders.c.id).where(
                    (orders.c.id == request.order_id) | (orders.c.hold_id == request.hold_id)
                )).first()
            return row.id if row is not None else None

        order_id = await self._ledger.run(run)
        found = await self._ledger.get_order(order_id) if order_id else None
        if found is None:
            raise LedgerSoldOut(f"order {request.order_id} could not be recorded")
        return found

    # ---- outbox --------------------------------------------------------------------------

    async def mark_published(self, order_id: str, now: int) -> None:
        def run() -> None:
            with self._engine.begin() as c:
                c.execute(sa.update(payment_outbox)
                          .where(payment_outbox.c.order_id == order_id,
                                 payment_outbox.c.published_at.is_(None))
                          .values(published_at=now))

        await self._ledger.run(run)

    # ---- the merge's SQL side ------------------------------------------------------------

    async def merge_state(self, event_id: str, held: dict[str, int],
                          now: int) -> tuple[dict[str, int], dict[str, int]]:
        """Record Redis's active held count per type (absent = 0; written only when it
        changed), and read what SQL holds took, per type and per buyer: one transaction."""
        def run() -> tuple[dict[str, int], dict[str, int]]:
            ti, h = ticket_inventory, sql_holds
            taken = sa.case((h.c.status.in_((*ACTIVE, HoldStatus.COMMITTED.value)),
                             h.c.quantity), else_=0)
            with self._engine.begin() as c:
                rows = c.execute(sa.select(ti.c.ticket_type_id, ti.c.taken_sql,
                                           ti.c.held_redis)
                                 .where(ti.c.event_id == event_id)).all()
                for r in rows:
                    n = int(held.get(r.ticket_type_id, 0))
                    if n != r.held_redis:
                        c.execute(sa.update(ti)
                                  .where(ti.c.event_id == event_id,
                                         ti.c.ticket_type_id == r.ticket_type_id)
                                  .values(held_redis=n, held_redis_at=now))
                users = c.execute(sa.select(h.c.user_id, sa.func.sum(taken).label("n"))
                                  .where(h.c.event_id == event_id)
                                  .group_by(h.c.user_id)).all()
            return ({r.ticket_type_id: int(r.taken_sql) for r in rows},
                    {u.user_id: int(u.n or 0) for u in users})

        return await self._ledger.run(run)
