"""The email outbox on SQL: rows written inside the ledger's own transactions, claimed by a
sender with a lease, then marked sent (or scheduled for a retry).

``enqueue_order_confirmation`` is the one hook into the ledger: it runs on the connection
that inserts a confirmed order, so the email exists if and only if the order does.

Waiting-list offers (issue 16) have rows of their own kind in ``waitlist_offer_emails``
(email_outbox's key is a foreign key to orders), claimed, sent and retried the same way by
the same sender; ``OutboxItem.order_id`` then holds the waiting-list entry id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared.adapters.sql_reads import reading
from shared.adapters.sql_schema import email_outbox, waitlist_offer_emails
from shared.mail import ORDER_CONFIRMATION, WAITLIST_OFFER, OutboxItem
from shared.models import WaitlistOfferNotice

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
        so two senders never hold the same row at once. Waiting-list offers first (they
        are few, and each is worth something only until its offer ends), then order
        confirmations, ``limit`` in all."""
        def run() -> list[OutboxItem]:
            claimed = self._claim(WAITLIST_OFFER, now, lease_ms, limit)
            if len(claimed) < limit:
                claimed += self._claim(ORDER_CONFIRMATION, now, lease_ms, limit - len(claimed))
            return claimed

        return await self._ledger._run(run)

    def _claim(self, kind: str, now: int, lease_ms: int, limit: int) -> list[OutboxItem]:
        table, key, of_kind = _rows_of(kind)
        free = sa.or_(table.c.claimed_until.is_(None), table.c.claimed_until < now)
        with self.engine.begin() as c:
            rows = c.execute(
                sa.select(key.label("ref"), table.c.attempts)
                .where(*of_kind, table.c.sent_at.is_(None), table.c.next_attempt_at <= now,
                       free)
                .order_by(table.c.next_attempt_at, key).limit(limit)).all()
        claimed = []
        for r in rows:
            with self.engine.begin() as c:
                won = c.execute(
                    sa.update(table).where(*of_kind, key == r.ref, table.c.sent_at.is_(None),
                                           free)
                    .values(claimed_until=now + lease_ms, attempts=table.c.attempts + 1)
                ).rowcount
            if won:
                claimed.append(OutboxItem(kind, r.ref, int(r.attempts) + 1, now + lease_ms))
        return claimed

    def _mine(self, item: OutboxItem) -> tuple[sa.Table, sa.ColumnElement[bool]]:
        table, key, of_kind = _rows_of(item.kind)
        return table, sa.and_(*of_kind, key == item.order_id,
                              table.c.claimed_until == item.claimed_until,
                              table.c.sent_at.is_(None))

    async def mark_sent(self, item: OutboxItem, now: int) -> None:
        def run() -> None:
            with self.engine.begin() as c:
                table, mine = self._mine(item)
                c.execute(sa.update(table).where(mine)
                          .values(sent_at=now, claimed_until=None, last_error=None))

        await self._ledger._run(run)

    async def mark_failed(self, item: OutboxItem, error: str, retry_at: int) -> None:
        def run() -> None:
            with self.engine.begin() as c:
                table, mine = self._mine(item)
                c.execute(sa.update(table).where(mine)
                          .values(claimed_until=None, next_attempt_at=retry_at,
                                  last_error=error[:300]))

        await self._ledger._run(run)

    async def sent_at(self, kind: str, order_id: str) -> int | None:
        def run() -> int | None:
            table, key, of_kind = _rows_of(kind)
            with reading(self.engine) as c:
                v = c.execute(sa.select(table.c.sent_at).where(
                    *of_kind, key == order_id)).scalar_one_or_none()
            return int(v) if v is not None else None

        return await self._ledger._run(run)

    async def add_waitlist_offers(self, notices: Sequence[WaitlistOfferNotice],
                                  now: int) -> int:
        """Enqueue one offer email per notice, idempotently on the entry id (a notice
        enqueued before inserts nothing); returns how many rows are new."""
        def run() -> int:
            added = 0
            for n in notices:
                try:
                    with self.engine.begin() as c:
                        c.execute(sa.insert(waitlist_offer_emails).values(
                            entry_id=n.entry_id, event_id=n.event_id, user_id=n.user_id,
                            hold_id=n.hold_id, ticket_type_id=n.ticket_type_id,
                            quantity=n.quantity, unit_price=n.unit_price, total=n.total,
                            currency=n.currency, offer_expires_at=n.offer_expires_at,
                            created_at=now, next_attempt_at=now, attempts=0))
                    added += 1
                except IntegrityError:  # enqueued before (a retried notice step)
                    pass
            return added

        return await self._ledger._run(run)

    async def waitlist_offer(self, entry_id: str) -> WaitlistOfferNotice | None:
        def run() -> WaitlistOfferNotice | None:
            w = waitlist_offer_emails
            with reading(self.engine) as c:
                r = c.execute(sa.select(w).where(w.c.entry_id == entry_id)).first()
            if r is None:
                return None
            return WaitlistOfferNotice(
                entry_id=r.entry_id, event_id=r.event_id, user_id=r.user_id,
                hold_id=r.hold_id, ticket_type_id=r.ticket_type_id, quantity=int(r.quantity),
                unit_price=int(r.unit_price), total=int(r.total), currency=r.currency,
                offer_expires_at=int(r.offer_expires_at))

        return await self._ledger._run(run)


def _rows_of(kind: str) -> tuple[sa.Table, sa.Column[str], list[sa.ColumnElement[bool]]]:
    """The table of an email kind, its key column, and the condition that picks the kind's
    rows in it (none for waiting-list offers, whose table holds nothing else)."""
    if kind == WAITLIST_OFFER:
        return waitlist_offer_emails, waitlist_offer_emails.c.entry_id, []
    return email_outbox, email_outbox.c.order_id, [email_outbox.c.kind == kind]
