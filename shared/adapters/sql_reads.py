"""Read-only transactions on the ledger's engines (``reading``), and the execution option
that tells ``create_engine``'s SQLite ``begin`` hook to open them DEFERRED."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa

READ_ONLY = "leap_read_only"


@contextlib.contextmanager
def reading(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A read-only transaction. On SQLite it begins DEFERRED, which in WAL mode reads a
    consistent snapshot without the write lock: with BEGIN IMMEDIATE every read (a buyer's
    order page, a session lookup) queued behind the finalizer's writes and each other.
    Elsewhere it is ``engine.begin()``. Never write in it (SQLite would then fail with
    "database is locked" on a busy file instead of waiting its turn)."""
    with engine.connect() as c:
        c.execution_options(**{READ_ONLY: True})
        with c.begin():
            yield c
