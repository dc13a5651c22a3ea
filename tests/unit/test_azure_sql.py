"""Azure SQL adapter logic that needs no Azure: the ODBC access-token packing, transient
error classification, the connect hook, engine settings, and the ledger's retry."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from shared.adapters.azure_sql import (
    SQL_COPT_SS_ACCESS_TOKEN,
    TOKEN_SCOPE,
    connect_string,
    create_azure_sql_engine,
    is_transient,
    pack_token,
    token_injector,
)
from shared.adapters.sql_ledger import SqlLedger
from shared.settings import Settings


class FakeOdbcError(Exception):
    """Shaped like pyodbc.Error: (SQLSTATE, message)."""


@dataclass
class Token:
    token: str


class Credential:
    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str) -> Token:
        self.scopes += scopes
        return Token("eyJ0eXAi.token")


def test_access_token_is_length_prefixed_utf16le() -> None:
    packed = pack_token("abc")
    assert packed == struct.pack("<I", 6) + "abc".encode("utf-16-le")
    (length,) = struct.unpack_from("<I", packed)
    assert length == len(packed) - 4


@pytest.mark.parametrize("error,transient", [
    (FakeOdbcError("08S01", "[08S01] Communication link failure (10054)"), True),
    (FakeOdbcError("42000", "Database 'leap' on server is not currently available. (40613)"),
     True),
    (FakeOdbcError("42000", "Resource ID : 1. The request limit has been reached. (10928)"),
     True),
    (FakeOdbcError("40001", "Transaction was deadlocked (1205)"), True),
    (FakeOdbcError("HYT00", "Login timeout expired (0)"), True),
    (FakeOdbcError("23000", "Violation of UNIQUE KEY constraint (2627)"), False),
    (FakeOdbcError("42S02", "Invalid object name 'orders'. (208)"), False),
])
def test_transient_errors_are_recognised(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient
    wrapped = OperationalError("SELECT 1", {}, error)
    assert is_transient(wrapped) is transient


def test_connect_hook_passes_a_fresh_token() -> None:
    credential = Credential()
    params: dict[str, Any] = {}
    token_injector(credential)(None, None, (), params)
    assert credential.scopes == [TOKEN_SCOPE]
    assert params["attrs_before"] == {SQL_COPT_SS_ACCESS_TOKEN: pack_token("eyJ0eXAi.token")}


def test_engine_uses_driver_18_encryption_and_a_small_recycled_pool() -> None:
    engine = create_azure_sql_engine("leap.database.windows.net", "leap", Credential())
    assert engine.dialect.name == "mssql"
    odbc = engine.url.query["odbc_connect"]
    assert "Driver={ODBC Driver 18 for SQL Server}" in odbc and "Encrypt=yes" in odbc
    assert "Server=tcp:leap.database.windows.net,1433" in odbc and "Pwd" not in odbc
    assert engine.pool.size() == 5  # type: ignore[attr-defined]
    assert engine.pool._recycle == 1800
    assert connect_string("tcp:x,1433", "db").startswith("Driver=")


def test_settings_choose_azure_sql_when_a_server_is_named() -> None:
    s = Settings.from_env({"SQL_SERVER": "leap.database.windows.net", "SQL_DATABASE": "ledger"})
    assert (s.sql_server, s.sql_database) == ("leap.database.windows.net", "ledger")


async def test_ledger_retries_a_transient_fault_then_succeeds(tmp_path: Path) -> None:
    ledger = SqlLedger.from_url(f"sqlite:///{tmp_path / 'l.sqlite'}")
    calls = 0

    def flaky() -> int:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise OperationalError("SELECT 1", {}, FakeOdbcError("08S01", "link (10054)"))
        with ledger.engine.begin() as c:
            return int(c.execute(sa.select(sa.literal(7))).scalar_one())

    assert await ledger._run(flaky) == 7 and calls == 3

    def broken() -> None:
        raise OperationalError("SELECT 1", {}, FakeOdbcError("42S02", "no table (208)"))

    with pytest.raises(OperationalError):
        await ledger._run(broken)
    ledger.close()


def test_grant_gives_the_identity_read_and_write_only() -> None:
    from shared.migrate import grant_statements

    statements = grant_statements("id-leap-abc123")
    assert "CREATE USER [id-leap-abc123] FROM EXTERNAL PROVIDER" in statements[0]
    assert [s.split()[2] for s in statements[1:]] == ["db_datareader", "db_datawriter"]
    with pytest.raises(ValueError):
        grant_statements("x]; DROP TABLE orders; --")


async def test_migrate_cli_on_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from shared.adapters.sql_migrations import MIGRATIONS
    from shared.migrate import main

    monkeypatch.setenv("LEAP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ADMIN_EMAIL", "ops@example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "a long admin secret")
    monkeypatch.setenv("ARGON2_MEMORY_KIB", "1024")
    assert await main(["--grant", "id-leap-abc123"]) == 0
    out = capsys.readouterr().out
    versions = [m.version for m in MIGRATIONS]
    assert f"migrations applied: {versions}" in out and "admin account: ops@example.com" in out
    assert "Azure SQL only" in out
    assert await main([]) == 0
    assert "none (up to date)" in capsys.readouterr().out
