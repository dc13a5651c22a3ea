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


def _v3_degraded_mode(conn: sa.Connection) -> None:
    # A ledger created by this code's v1 already has the new ticket_inventory columns (v1
    # creates the table as sql_schema defines it now); an older one gets them here. The
    # statement is the same on SQLite and SQL Server (no COLUMN keyword, a constant default).
    present = {c["name"] for c in sa.inspect(conn).get_columns("ticket_inventory")}
    for column in ("held_sql", "taken_sql", "held_redis", "held_redis_at"):
        if column not in present:
            kind = "BIGINT" if column == "held_redis_at" else "INTEGER"
            conn.exec_driver_sql(
                f"ALTER TABLE ticket_inventory ADD {column} {kind} NOT NULL DEFAULT 0")
    t.sql_holds.create(conn, checkfirst=True)
    t.payment_outbox.create(conn, checkfirst=True)


def _v4_door_checkin(conn: sa.Connection) -> None:
    t.event_staff.create(conn)
    t.ticket_checkins.create(conn)


def _v5_email_outbox(conn: sa.Connection) -> None:
    t.email_outbox.create(conn)


def _v6_refunds(conn: sa.Connection) -> None:
    c.orders_by_event.create(conn, checkfirst=True)
    c.refunds.create(conn)
    c.refunded_tickets.create(conn)
    c.event_cancellations.create(conn)


def _v7_waitlist_offer_emails(conn: sa.Connection) -> None:
    t.waitlist_offer_emails.create(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "ledger: users, sessions, ticket_inventory, orders, tickets, payments",
              _v1_ledger),
    Migration(2, "audit_log of admin actions", _v2_audit_log),
    Migration(3, "degraded mode: SQL hold counts, sql_holds, payment_outbox",
              _v3_degraded_mode),
    Migration(4, "event_staff and ticket_checkins (door check-in)", _v4_door_checkin),
    Migration(5, "email_outbox (order confirmations)", _v5_email_outbox),
    Migration(6, "refunds, refunded_tickets, event_cancellations, orders by event", _v6_refunds),
    Migration(7, "waitlist_offer_emails (waiting-list offers)", _v7_waitlist_offer_emails),
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
