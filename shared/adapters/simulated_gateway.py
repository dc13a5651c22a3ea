"""A simulated card processor: the one external service that cannot run here, so this is
the project's only fake. It keeps its charges in its own SQLite file, so it remembers them
across a crash of the process that called it, as a real processor would.

Test tokens behave like a processor's: ``tok_visa`` (and any other ``tok_*``) succeeds,
``tok_chargeDeclined`` declines, ``tok_processingError`` fails transiently every time.
A repeated ``charge`` with the same idempotency key returns the first result (a decline
included) and never charges twice.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared import ids
from shared.errors import PaymentDeclined, PaymentUnavailable
from shared.models import Charge, now_ms

DECLINE = "tok_chargeDeclined"
PROCESSING_ERROR = "tok_processingError"


@dataclass
class _Due:
    """A charge asked for and not yet written, with the caller waiting on ``waiter``."""

    amount: int
    currency: str
    token: str
    key: str
    waiter: asyncio.Future[tuple[Any, ...]]
    row: tuple[Any, ...] = ()


class SimulatedGateway:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # Charges not yet written, by the event loop they were asked for on.
        self._due: dict[asyncio.AbstractEventLoop, list[_Due]] = {}
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a charge survives a crash of the calling process (the point of the
        # file) without an fsync per charge, which would make this fake the bottleneck of
        # batched finalize rather than the code under test.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS charges (id TEXT PRIMARY KEY, idempotency_key TEXT"
            " UNIQUE NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL, token TEXT"
            " NOT NULL, outcome TEXT NOT NULL, refunded INTEGER NOT NULL DEFAULT 0,"
            " created_at INTEGER NOT NULL)"
        )
        # Partial refunds (the organiser console), once per idempotency key.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS refunds (idempotency_key TEXT PRIMARY KEY, charge_id"
            " TEXT NOT NULL, amount INTEGER NOT NULL, created_at INTEGER NOT NULL)"
        )

    def close(self) -> None:
        self._db.close()

    def _write(self, due: list[_Due]) -> None:
        """One transaction for every charge asked for in the same turn of the event loop
        (a batch of finalize charges them all at once): a transaction per charge was three
        page writes and a lock round of its own, and with several worker processes sharing
        this file each one also re-read the pages the others had changed."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for item in due:
                    row = self._db.execute(
                        "SELECT id, amount, currency, outcome, refunded FROM charges"
                        " WHERE idempotency_key = ?", (item.key,)
                    ).fetchone()
                    if row is None:
                        outcome = "declined" if item.token == DECLINE else "succeeded"
                        row = (f"ch_{ids.new_id()}", item.amount, item.currency,
                               outcome, 0)
                        self._db.execute(
                            "INSERT INTO charges VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                            (row[0], item.key, item.amount, item.currency, item.token,
                             outcome, now_ms()),
                        )
                    item.row = row
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _write_due(self, loop: asyncio.AbstractEventLoop) -> None:
        due = self._due.pop(loop, [])
        try:
            self._write(due)
        except Exception as exc:  # e.g. locked past the timeout: transient, for all of them
            for item in due:
                if not item.waiter.done():
                    item.waiter.set_exception(PaymentUnavailable(f"processor store: {exc}"))
            return
        for item in due:
            if not item.waiter.done():  # a caller cancelled meanwhile: charged all the same
                item.waiter.set_result(item.row)

    async def charge(self, *, amount: int, currency: str, token: str,
                     idempotency_key: str) -> Charge:
        # In the loop, not a worker thread: the charges of one turn are one indexed read and
        # one insert each in a single WAL/NORMAL transaction (tens of microseconds per
        # charge), less than a thread hop; still a suspension point, as a network call is.
        if token == PROCESSING_ERROR:
            await asyncio.sleep(0)
            raise PaymentUnavailable("processing error (simulated)")
        loop = asyncio.get_running_loop()
        item = _Due(amount, currency, token, idempotency_key, loop.create_future())
        due = self._due.setdefault(loop, [])
        due.append(item)
        if len(due) == 1:  # the first of this turn: write them all once the turn is over
            loop.call_soon(self._write_due, loop)
        row = await item.waiter
        if row[3] == "declined":
            raise PaymentDeclined("card declined (simulated)")
        return Charge(id=row[0], idempotency_key=idempotency_key, amount=row[1],
                      currency=row[2], refunded=bool(row[4]))

    async def refund(self, charge: Charge) -> None:
        def run() -> None:
            with self._lock:
                self._db.execute("UPDATE charges SET refunded = 1 WHERE id = ?", (charge.id,))

        await asyncio.to_thread(run)

    async def refund_amount(self, charge: Charge, amount: int, idempotency_key: str) -> None:
        """Return ``amount`` of the charge; a repeated key returns nothing more. Refunds
        never exceed the charge, as a processor refuses; the charge counts as refunded once
        they reach its amount."""
        def run() -> None:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    seen = self._db.execute("SELECT 1 FROM refunds WHERE idempotency_key = ?",
                                            (idempotency_key,)).fetchone()
                    row = self._db.execute(
                        "SELECT amount, (SELECT COALESCE(SUM(amount), 0) FROM refunds"
                        " WHERE charge_id = charges.id) FROM charges WHERE id = ?"
                        " AND outcome = 'succeeded'", (charge.id,)).fetchone()
                    if row is None:
                        raise ValueError(f"no such charge {charge.id}")
                    if seen is None:
                        if row[1] + amount > row[0]:
                            raise ValueError("refunds would exceed the charge")
                        self._db.execute("INSERT INTO refunds VALUES (?, ?, ?, ?)",
                                         (idempotency_key, charge.id, amount, now_ms()))
                        if row[1] + amount == row[0]:
                            self._db.execute("UPDATE charges SET refunded = 1 WHERE id = ?",
                                             (charge.id,))
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise

        await asyncio.to_thread(run)

    def refunded_amount(self, charge_id: str) -> int:
        """What the partial refunds of a charge add up to (tests)."""
        with self._lock:
            row = self._db.execute("SELECT COALESCE(SUM(amount), 0) FROM refunds"
                                   " WHERE charge_id = ?", (charge_id,)).fetchone()
        return int(row[0])

    async def find_charge(self, idempotency_key: str) -> Charge | None:
        def run() -> Charge | None:
            with self._lock:
                row = self._db.execute(
                    "SELECT id, amount, currency, refunded FROM charges"
                    " WHERE idempotency_key = ? AND outcome = 'succeeded'", (idempotency_key,)
                ).fetchone()
            if row is None:
                return None
            return Charge(id=row[0], idempotency_key=idempotency_key, amount=row[1],
                          currency=row[2], refunded=bool(row[3]))

        return await asyncio.to_thread(run)

    async def open_charges(self, since_ms: int) -> list[Charge]:
        def run() -> list[Charge]:
            with self._lock:
                rows = self._db.execute(
                    "SELECT id, idempotency_key, amount, currency FROM charges"
                    " WHERE outcome = 'succeeded' AND refunded = 0 AND created_at >= ?"
                    " ORDER BY created_at", (since_ms,)
                ).fetchall()
            return [Charge(id=r[0], idempotency_key=r[1], amount=r[2], currency=r[3])
                    for r in rows]

        return await asyncio.to_thread(run)

    def stats(self) -> dict[str, int]:
        """Counts for tests and benchmarks: charges that succeeded, and refunds."""
        with self._lock:
            charged, refunded = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(refunded), 0) FROM charges"
                " WHERE outcome = 'succeeded'"
            ).fetchone()
        return {"charged": int(charged), "refunded": int(refunded)}
