"""The ledger's tables (SQLAlchemy Core), written once for SQL Server and SQLite.

Keys are application-generated strings; times are epoch milliseconds (UTC); money is integer
minor units plus an ISO 4217 code. ``ticket_inventory`` carries the last line of defence
against an oversell: ``CHECK (sold <= capacity)``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()

ID = sa.String(36)
CHILD_ID = sa.String(101)  # "<event id>.<32 hex>" (see shared.ids)
MS = sa.BigInteger

schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.Unicode(200), nullable=False),
    sa.Column("applied_at", MS, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("email", sa.Unicode(254), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("display_name", sa.Unicode(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", MS, nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("created_at", MS, nullable=False),
    sa.Column("expires_at", MS, nullable=False),
    sa.Column("revoked_at", MS, nullable=True),
)

ticket_inventory = sa.Table(
    "ticket_inventory",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("ticket_type_id", sa.String(64), primary_key=True),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("sold", sa.Integer, nullable=False, server_default="0"),
    # Degraded mode (migration 3): tickets in active SQL holds; tickets taken by SQL holds
    # and not given back (held + sold through them; Redis excludes this many, see
    # lua/sync_sql.lua); Redis's active held count as last reported by the reconciler.
    sa.Column("held_sql", sa.Integer, nullable=False, server_default="0"),
    sa.Column("taken_sql", sa.Integer, nullable=False, server_default="0"),
    sa.Column("held_redis", sa.Integer, nullable=False, server_default="0"),
    sa.Column("held_redis_at", MS, nullable=False, server_default="0"),
    sa.CheckConstraint("sold <= capacity", name="ck_inventory_sold_le_capacity"),
    sa.CheckConstraint("sold >= 0", name="ck_inventory_sold_nonneg"),
    sa.CheckConstraint("capacity >= 0", name="ck_inventory_capacity_nonneg"),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", CHILD_ID, primary_key=True),
    sa.Column("hold_id", CHILD_ID, nullable=False, unique=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32), nullable=True),
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("created_at", MS, nullable=False),
    sa.Index("ix_orders_user_created", "user_id", "created_at"),
)

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("order_id", CHILD_ID, sa.ForeignKey("orders.id"), nullable=False, index=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("ticket_type_id", sa.String(64), nullable=False),
    sa.Column("seat_id", sa.String(32), nullable=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("at", MS, nullable=False),
    sa.Column("actor_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(101), nullable=False),
    sa.Column("detail", sa.UnicodeText, nullable=False),
    sa.Index("ix_audit_log_at", "at"),
)

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("order_id", CHILD_ID, sa.ForeignKey("orders.id"), nullable=False, index=True),
    sa.Column("idempotency_key", sa.String(120), nullable=False, unique=True),
    sa.Column("charge_id", sa.String(64), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # charged | refunded
    sa.Column("created_at", MS, nullable=False),
)

# Degraded mode (issue 12, migration 3): holds taken in SQL while Redis is unreachable, and
# the payment messages of their checkouts, written in the checkout's transaction.
sql_holds = sa.Table(
    "sql_holds",
    metadata,
    sa.Column("id", CHILD_ID, primary_key=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("user_id", ID, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # held | checkout | committed | released
    sa.Column("items", sa.UnicodeText, nullable=False),  # JSON line items
    sa.Column("quantity", sa.Integer, nullable=False),  # tickets in the hold (per-user limit)
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("promo", sa.String(64), nullable=True),
    sa.Column("discount", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", MS, nullable=False),
    sa.Column("expires_at", MS, nullable=False),
    sa.Column("order_id", CHILD_ID, nullable=True, unique=True),
    sa.Column("pay_until", MS, nullable=True),
    sa.Column("ended_at", MS, nullable=True),
    sa.Column("end_reason", sa.String(32), nullable=True),
    sa.Index("ix_sql_holds_status_expires", "status", "expires_at"),
    sa.Index("ix_sql_holds_user_event", "user_id", "event_id"),
)

payment_outbox = sa.Table(
    "payment_outbox",
    metadata,
    sa.Column("order_id", CHILD_ID, primary_key=True),
    sa.Column("body", sa.UnicodeText, nullable=False),  # PaymentRequest JSON
    sa.Column("created_at", MS, nullable=False),
    sa.Column("published_at", MS, nullable=True),
    sa.Index("ix_payment_outbox_published", "published_at", "created_at"),
)

# Door staff (issue 16): who may check tickets in at which event, granted by an organiser.
event_staff = sa.Table(
    "event_staff",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("granted_by", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("granted_at", MS, nullable=False),
    sa.Index("ix_event_staff_user", "user_id"),
)

# One row per admitted ticket (issue 16). The primary key makes check-in exactly-once: of
# any number of concurrent scans, one insert wins and the rest read the winner's row. A
# table of its own (not columns on ``tickets``) keeps the tickets table untouched.
ticket_checkins = sa.Table(
    "ticket_checkins",
    metadata,
    sa.Column("ticket_id", ID, sa.ForeignKey("tickets.id"), primary_key=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("checked_in_at", MS, nullable=False),
    sa.Column("checked_in_by", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Index("ix_ticket_checkins_event", "event_id"),
)


def _delivery_columns() -> list[sa.Column[Any]]:
    """An email outbox row's delivery state (fresh Column objects for each table): when it
    was enqueued and is next due, its attempts, the sender's lease, and the outcome."""
    return [
        sa.Column("created_at", MS, nullable=False),
        sa.Column("next_attempt_at", MS, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_until", MS, nullable=True),
        sa.Column("sent_at", MS, nullable=True),
        sa.Column("last_error", sa.Unicode(300), nullable=True),
    ]


# Emails to send (issue 16), written in the same transaction as what they announce. One row
# per (kind, order): the order's insert is the arbiter, so the row is written exactly once.
# A sender claims a row with a lease (``claimed_until``) before sending and marks it sent.
email_outbox = sa.Table(
    "email_outbox",
    metadata,
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("order_id", CHILD_ID, sa.ForeignKey("orders.id"), primary_key=True),
    *_delivery_columns(),
    sa.Index("ix_email_outbox_due", "sent_at", "next_attempt_at"),
)

# Waiting-list offer emails (issue 16): the same outbox columns as email_outbox, plus what
# the email says. A table of its own because email_outbox's key is a foreign key to orders
# and an offer has no order; one row per waiting-list entry (its id is the key), so
# enqueuing the same offer twice inserts nothing.
waitlist_offer_emails = sa.Table(
    "waitlist_offer_emails",
    metadata,
    sa.Column("entry_id", CHILD_ID, primary_key=True),
    sa.Column("event_id", ID, nullable=False),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("hold_id", CHILD_ID, nullable=False),
    sa.Column("ticket_type_id", ID, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price", sa.BigInteger, nullable=False),
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("offer_expires_at", MS, nullable=False),
    *_delivery_columns(),
    sa.Index("ix_waitlist_offer_emails_due", "sent_at", "next_attempt_at"),
)
