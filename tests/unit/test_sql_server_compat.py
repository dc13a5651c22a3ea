"""Every ledger statement compiles for SQL Server (mssql+pyodbc), not only SQLite.

Runs a full purchase flow on SQLite while a listener compiles each statement the ledger
executes (DDL included) with the SQL Server dialect, so new statements are covered by
construction rather than by a list someone must remember to update.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mssql
from sqlalchemy.schema import CreateTable, DDLElement
from sqlalchemy.sql import ClauseElement

from shared.adapters.sql_schema import metadata
from shared.models import LineItem, PaymentRequest, now_ms
from shared.runtime import Runtime, build_runtime
from shared.settings import Settings
from tests.support import make_buyer, make_event, type_id

DIALECT = mssql.pyodbc.dialect()  # type: ignore[no-untyped-call]


def test_schema_compiles_for_sql_server() -> None:
    ddl = {t.name: str(CreateTable(t).compile(dialect=DIALECT)) for t in metadata.sorted_tables}
    assert "CHECK (sold <= capacity)" in ddl["ticket_inventory"]
    assert "NVARCHAR(254)" in ddl["users"]
    assert "UNIQUE (hold_id)" in ddl["orders"]
    assert "UNIQUE (idempotency_key)" in ddl["payments"]


async def test_every_executed_ledger_statement_compiles_for_sql_server(rt: Runtime) -> None:
    compiled: list[str] = []

    def capture(conn: Any, clause: Any, multiparams: Any, params: Any,
                execution_options: Any) -> None:
        if isinstance(clause, (ClauseElement, DDLElement)):
            compiled.append(str(clause.compile(dialect=DIALECT)))

    sa.event.listen(rt.ledger.engine, "before_execute", capture)
    try:
        await rt.ledger.migrate()
        event = await make_event(rt, {"GA": 5})
        _, user = await make_buyer(rt)
        requests = []
        for token in ("tok_visa", "tok_chargeDeclined", "tok_visa", "tok_visa"):
            hold = await rt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), 1)])
            hold = await rt.checkout.checkout(user, hold.id, token)
            assert hold.order_id
            requests.append(PaymentRequest(
                order_id=hold.order_id, hold_id=hold.id, event_id=event.id,
                user_id=user.user_id, items=hold.items, amount=hold.total,
                currency=hold.currency, payment_token=token))
        for request in requests[:2]:  # one at a time, then a batch (multi-row statements)
            await rt.finalizer.handle(request)
        await rt.finalizer.handle_batch(requests[2:])
        await rt.orders.mine(user)
        await rt.reconciler.run_once(rt.clock())
        token, _ = await rt.accounts.login(user.email, "correct horse battery")
        await rt.redis.flushall()
        await rt.accounts.authenticate(token)
        await rt.accounts.logout(token)
    finally:
        sa.event.remove(rt.ledger.engine, "before_execute", capture)
    text = "\n".join(compiled)
    for expected in ("INSERT INTO orders", "UPDATE ticket_inventory SET sold=",
                     "INSERT INTO tickets", "INSERT INTO payments", "INSERT INTO sessions",
                     "UPDATE sessions SET revoked_at", "SELECT TOP", "INSERT INTO users"):
        assert expected in text, expected


async def test_degraded_mode_statements_compile_for_sql_server(settings: Settings) -> None:
    """The SQL side of degraded mode (issue 12): holds, checkout + outbox, finalize, release,
    expiry and the relay, with the breaker held open."""
    rt = build_runtime(settings.with_(breaker_failures=1, breaker_open_seconds=3600))
    compiled: list[str] = []

    def capture(conn: Any, clause: Any, multiparams: Any, params: Any,
                execution_options: Any) -> None:
        if isinstance(clause, (ClauseElement, DDLElement)):
            compiled.append(str(clause.compile(dialect=DIALECT)))

    await rt.migrate()
    event = await make_event(rt, {"GA": 3})
    _, user = await make_buyer(rt)
    sa.event.listen(rt.ledger.engine, "before_execute", capture)
    try:
        rt.breaker.record_failure()
        assert rt.breaker.is_open
        ga = type_id(event, "GA")
        paid = await rt.holds.create(user, event.id, [LineItem(ga, 1)])
        paid = await rt.checkout.checkout(user, paid.id, "tok_visa")
        assert paid.order_id
        await rt.finalizer.handle(PaymentRequest(
            order_id=paid.order_id, hold_id=paid.id, event_id=event.id, user_id=user.user_id,
            items=paid.items, amount=paid.total, currency=paid.currency,
            payment_token="tok_visa"))
        dropped = await rt.holds.create(user, event.id, [LineItem(ga, 1)])
        await rt.holds.release(user, dropped.id)
        await rt.inventory.availability(event.id)
        await rt.reconciler.run_once(rt.clock())
    finally:
        sa.event.remove(rt.ledger.engine, "before_execute", capture)
        await rt.close()
    text = "\n".join(compiled)
    for expected in ("INSERT INTO sql_holds", "UPDATE ticket_inventory SET held_sql=",
                     "INSERT INTO payment_outbox", "UPDATE sql_holds SET status="):
        assert expected in text, expected


async def test_every_console_statement_compiles_for_sql_server(rt: Runtime) -> None:
    """The organiser console's queries and refunds (issue 15), the same way."""
    compiled: list[str] = []

    def capture(conn: Any, clause: Any, multiparams: Any, params: Any,
                execution_options: Any) -> None:
        if isinstance(clause, (ClauseElement, DDLElement)):
            compiled.append(str(clause.compile(dialect=DIALECT)))

    event = await make_event(rt, {"GA": 5})
    _, user = await make_buyer(rt)
    _, admin = await make_buyer(rt, role="admin")
    hold = await rt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), 2)])
    hold = await rt.checkout.checkout(user, hold.id, "tok_visa")
    assert hold.order_id
    await rt.finalizer.handle(PaymentRequest(
        order_id=hold.order_id, hold_id=hold.id, event_id=event.id, user_id=user.user_id,
        items=hold.items, amount=hold.total, currency=hold.currency, payment_token="tok_visa"))
    sa.event.listen(rt.ledger.engine, "before_execute", capture)
    try:
        await rt.console.my_events(None, 10)
        await rt.console.dashboard(event.id)
        await rt.console.orders(event.id, "buyer", None, 10)
        await rt.console.orders(event.id, user.email, f"{now_ms()}~{hold.order_id}", 10)
        lines = await rt.console.csv_lines(event.id, "", admin)
        assert [line async for line in lines]
        order = (await rt.console.order(hold.order_id)).order
        await rt.refunds.refund(hold.order_id, [order.tickets[0].id], admin)
        await rt.cancellations.start(event.id, admin)
        await rt.cancellations.run(event.id)
        await rt.console.audit(event.id, 10)
        await rt.orders.mine(user)
    finally:
        sa.event.remove(rt.ledger.engine, "before_execute", capture)
    text = "\n".join(compiled)
    for expected in ("INSERT INTO refunds", "INSERT INTO refunded_tickets",
                     "UPDATE ticket_inventory SET sold=", "LIKE", "ESCAPE",
                     "INSERT INTO event_cancellations", "SELECT TOP"):
        assert expected in text, expected
