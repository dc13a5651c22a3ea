"""The email outbox on SQL: rows written inside the ledger's own transactions, claimed by a
sender with a lease, then marked sent (or scheduled for a retry).

``enqueue_order_confirmation`` is the one hook into the ledger: it runs on the connection
that inserts a confirmed order, so the email exists if and only if the order does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from shared.adapters.sql_reads import reading
from shared.adapters.sql_schema import email_outbox
from shared.mail import ORDER_CONFIRMATION, OutboxItem

if TYPE_CHECKING:  # the ledger imports this module for its hook
    from shared.adapters.sql_ledger import SqlLedger


def enqueue_order_confirmation(conn: sa.Connection, order_id: str, now: int) -> None:
    """Call inside the transaction that inserts the confirmed order."""
    enqueue_order_confirmations(conn, [order_id], now)


def enqueue_order_confirmations(conn: sa.Connection, order_ids: Sequence[str],
                                now: int) -> None:
    """The same for a batch of confirmed orders, in their one transaction (one insert)."""
    conn.execute(sa.insert(email_outbox), [
        {"kind": ORDER_CONFIRMATION, "order_id": order_id, "created_at": now,
         "next_attempt_at": now, "attempts": 0} for order_id in order_ids])


class SqlEmailOutbox:
    def __init__(self, ledger: SqlLedger) -> None:
        self._ledger = ledger
        self.engine = ledger.engine

    async def claim_due(self, now: int, lease_ms: int, limit: int) -> list[OutboxItem]:
        """Rows due and not claimed by a live lease; each claimed by a conditional UPDATE,
        so two senders never hold the same row at once."""
        def run() -> list[OutboxItem]:
            o = email_outbox
            free = sa.or_(o.c.claimed_until.is_(None), o.c.claimed_until < now)
            with self.engine.begin() as c:
                rows = c.execute(
                    sa.select(o.c.kind, o.c.order_id, o.c.attempts)
                    .where(o.c.sent_at.is_(None), o.c.next_attempt_at <= now, free)
                    .order_by(o.c.next_attempt_at, o.c.order_id).limit(limit)).all()
            claimed = []
            for r in rows:
                with self.engine.begin() as c:
                    won = c.execute(
                        sa.update(o).where(o.c.kind == r.kind, o.c.order_id == r.order_id,
                                           o.c.sent_at.is_(None), free)
                        .values(claimed_until=now + lease_ms, attempts=o.c.attempts + 1)
                    ).rowcount
                if won:
                    claimed.append(OutboxItem(r.kind, r.order_id, int(r.attempts) + 1,
                                              now + lease_ms))
            return claimed

        return await self._ledger._run(run)

    def _mine(self, item: OutboxItem) -> sa.ColumnElement[bool]:
        o = email_outbox
        return sa.and_(o.c.kind == item.kind, o.c.order_id == item.order_id,
                       o.c.claimed_until == item.claimed_until, o.c.sent_at.is_(None))

    async def mark_sent(self, item: OutboxItem, now: int) -> None:
        def run() -> None:
            with self.engine.begin() as c:
                c.execute(sa.update(email_outbox).where(self._mine(item))
                          .values(sent_at=now, claimed_until=None, last_error=None))

        await self._ledger._run(run)

    async def mark_failed(self, item: OutboxItem, error: str, retry_at: int) -> None:
        def run() -> None:
            with self.engine.begin() as c:
                c.execute(sa.update(email_outbox).where(self._mine(item))
                          .values(claimed_until=None, next_attempt_at=retry_at,
                                  last_error=error[:300]))

        await self._ledger._run(run)

    async def sent_at(self, kind: str, order_id: str) -> int | None:
        def run() -> int | None:
            o = email_outbox
            with reading(self.engine) as c:
                v = c.execute(sa.select(o.c.sent_at).where(
                    o.c.kind == kind, o.c.order_id == order_id)).scalar_one_or_none()
            return int(v) if v is not None else None

        return await self._ledger._run(run)
