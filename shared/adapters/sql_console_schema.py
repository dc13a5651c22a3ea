"""Ledger tables of the organiser console (migration 10): refunds and the tickets they void.

A ticket is valid unless a row of ``refunded_tickets`` names it; its primary key makes two
refunds of one ticket impossible, whoever races."""

from __future__ import annotations

import sqlalchemy as sa

from shared.adapters.sql_schema import CHILD_ID, ID, MS, metadata, orders

refunds = sa.Table(
    "refunds",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("order_id", CHILD_ID, sa.ForeignKey("orders.id"), nullable=False, index=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | refunded | done
    sa.Column("actor_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", MS, nullable=False),
    sa.Column("updated_at", MS, nullable=False),
    sa.Index("ix_refunds_status", "status"),
)

refunded_tickets = sa.Table(
    "refunded_tickets",
    metadata,
    sa.Column("ticket_id", ID, sa.ForeignKey("tickets.id"), primary_key=True),
    sa.Column("refund_id", ID, sa.ForeignKey("refunds.id"), nullable=False, index=True),
    sa.Column("order_id", CHILD_ID, nullable=False, index=True),
    sa.Column("ticket_type_id", sa.String(64), nullable=False),
)

# Cancelling a whole event refunds every order as a resumable job: one row per event.
event_cancellations = sa.Table(
    "event_cancellations",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # running | done
    sa.Column("actor_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("started_at", MS, nullable=False),
    sa.Column("updated_at", MS, nullable=False),
)

# The console lists an event's orders newest first and sums its sales. Bound to the table,
# so a new ledger gets it from migration 1 too; migration 10 creates it only where missing.
orders_by_event = sa.Index("ix_orders_event_created", orders.c.event_id, orders.c.created_at)
