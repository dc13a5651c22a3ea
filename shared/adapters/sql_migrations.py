"""Versioned ledger migrations: each runs once, in order, inside its own transaction.

A migration is a function of a connection. Add new ones at the end; never edit one that
has shipped. ``schema_migrations`` records what ran.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from shared.adapters import sql_console_schema as c
from shared.adapters import sql_schema as t
from shared.models import now_ms


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    upgrade: Callable[[sa.Connection], None]


def _v1_ledger(conn: sa.Connection) -> None:
    for table in (t.users, t.sessions, t.ticket_inventory, t.orders, t.tickets, t.payments):
        table.create(conn)


def _v2_audit_log(conn: sa.Connection) -> None:
    t.audit_log.create(conn)


def _v10_refunds(conn: sa.Connection) -> None:
    c.orders_by_event.create(conn, checkfirst=True)
    c.refunds.create(conn)
    c.refunded_tickets.create(conn)
    c.event_cancellations.create(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "ledger: users, sessions, ticket_inventory, orders, tickets, payments",
              _v1_ledger),
    Migration(2, "audit_log of admin actions", _v2_audit_log),
    # issue 15 (numbered 10 so parallel branches' migrations can be renumbered before it)
    Migration(10, "refunds, refunded_tickets, event_cancellations, orders by event", _v10_refunds),
)


def migrate(engine: sa.Engine) -> list[int]:
    """Apply every migration not yet recorded; returns the versions applied now."""
    with engine.begin() as conn:
        t.schema_migrations.create(conn, checkfirst=True)
    applied_now: list[int] = []
    for m in MIGRATIONS:
        with engine.begin() as conn:
            done = conn.execute(
                sa.select(t.schema_migrations.c.version).where(
                    t.schema_migrations.c.version == m.version
                )
            ).first()
            if done:
                continue
            m.upgrade(conn)
            conn.execute(
                sa.insert(t.schema_migrations).values(
                    version=m.version, description=m.description, applied_at=now_ms()
                )
            )
            applied_now.append(m.version)
    return applied_now
