"""Azure SQL for the ledger: ``mssql+pyodbc`` over ODBC Driver 18 with Entra ID tokens.

No password anywhere: each new connection gets an access token from the managed identity
(``DefaultAzureCredential``; set AZURE_CLIENT_ID for a user-assigned one), passed through
the ODBC pre-connect attribute ``SQL_COPT_SS_ACCESS_TOKEN`` as the driver expects it: the
token's UTF-16-LE bytes behind a 4-byte little-endian length.

The pool suits Functions: few connections per instance (instances scale out, the database's
session limit does not), recycled before tokens expire, checked before use. Transient faults
(failovers, throttling, dropped links) are recognised by their SQL Server error numbers and
ODBC SQLSTATEs, so the ledger can retry them.
"""

from __future__ import annotations

import re
import struct
from typing import Any, Protocol

import sqlalchemy as sa

SQL_COPT_SS_ACCESS_TOKEN = 1256
TOKEN_SCOPE = "https://database.windows.net/.default"
DRIVER = "ODBC Driver 18 for SQL Server"

# Error numbers Azure SQL documents as transient (connectivity, failover, throttling,
# resource governance) plus deadlock victims (1205), which succeed when retried.
RETRYABLE_NUMBERS = frozenset({
    64, 121, 233, 1205, 4060, 4221, 10053, 10054, 10060, 10928, 10929, 40143, 40197, 40501,
    40540, 40613, 42108, 42109, 49918, 49919, 49920,
})
# ODBC SQLSTATEs for a lost or failed link and timeouts.
RETRYABLE_STATES = frozenset({"08S01", "08001", "08004", "HYT00", "HYT01", "40001"})
_NUMBER = re.compile(r"\((\d{2,5})\)")


class TokenCredential(Protocol):
    def get_token(self, *scopes: str) -> Any: ...


def pack_token(token: str) -> bytes:
    """The ODBC access-token attribute value: length-prefixed UTF-16-LE."""
    raw = token.encode("utf-16-le")
    return struct.pack(f"<I{len(raw)}s", len(raw), raw)


def connect_string(server: str, database: str) -> str:
    host = server if server.startswith("tcp:") else f"tcp:{server},1433"
    return (f"Driver={{{DRIVER}}};Server={host};Database={database};Encrypt=yes;"
            "TrustServerCertificate=no;Connection Timeout=30")


def is_transient(exc: BaseException) -> bool:
    """Whether a driver error (possibly wrapped by SQLAlchemy) is worth a retry."""
    err = getattr(exc, "orig", exc)
    args = getattr(err, "args", ())
    if args and isinstance(args[0], str) and args[0] in RETRYABLE_STATES:
        return True
    text = " ".join(str(a) for a in args)
    return any(int(n) in RETRYABLE_NUMBERS for n in _NUMBER.findall(text))


def create_azure_sql_engine(server: str, database: str,
                            credential: TokenCredential | None = None) -> sa.Engine:
    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    url = sa.URL.create("mssql+pyodbc", query={"odbc_connect": connect_string(server, database)})
    engine = sa.create_engine(url, pool_size=5, max_overflow=5, pool_timeout=30,
                              pool_recycle=1800, pool_pre_ping=True)
    sa.event.listen(engine, "do_connect", token_injector(credential))
    return engine


def token_injector(credential: TokenCredential) -> Any:
    def inject(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        token = credential.get_token(TOKEN_SCOPE).token
        cparams["attrs_before"] = {SQL_COPT_SS_ACCESS_TOKEN: pack_token(token)}

    return inject
