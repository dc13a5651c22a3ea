"""``python -m shared.migrate [--grant IDENTITY]``: apply ledger migrations, create the admin
account when ADMIN_EMAIL and ADMIN_PASSWORD are set, and on Azure SQL give the app's managed
identity its database user (read and write, nothing more). Deployments run it each release."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys

from shared.adapters.argon2_hasher import Argon2Hasher
from shared.adapters.sql_ledger import SqlLedger
from shared.models import now_ms
from shared.services.accounts import AccountService
from shared.settings import from_env_or_exit


class _NoSessions:
    """Creating an account touches no session store."""

    async def add_session(self, *_: object) -> None: ...
    async def session(self, *_: object) -> None: ...
    async def revoke_session(self, *_: object) -> None: ...
    async def revoke_user_sessions(self, *_: object) -> list[str]: return []
    async def get(self, *_: object) -> None: ...
    async def put(self, *_: object) -> None: ...
    async def delete(self, *_: object) -> None: ...


def grant_statements(identity: str) -> list[str]:
    """T-SQL giving a Microsoft Entra identity a contained user with read/write roles."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}", identity):
        raise ValueError(f"not an identity name: {identity!r}")
    return [
        f"IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = N'{identity}') "
        f"CREATE USER [{identity}] FROM EXTERNAL PROVIDER",
        f"ALTER ROLE db_datareader ADD MEMBER [{identity}]",
        f"ALTER ROLE db_datawriter ADD MEMBER [{identity}]",
    ]


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.migrate")
    parser.add_argument("--grant", metavar="IDENTITY",
                        help="Azure SQL: the app's managed identity to give a database user")
    args = parser.parse_args(argv)
    settings = from_env_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    ledger = SqlLedger.from_settings(settings)
    try:
        applied = await ledger.migrate()
        print(f"migrations applied: {applied or 'none (up to date)'}")
        if os.environ.get("ADMIN_EMAIL") and os.environ.get("ADMIN_PASSWORD"):
            hasher = Argon2Hasher(time_cost=settings.argon2_time_cost,
                                  memory_kib=settings.argon2_memory_kib,
                                  parallelism=settings.argon2_parallelism)
            none = _NoSessions()
            accounts = AccountService(ledger, none, none, hasher, settings, now_ms)
            await accounts.ensure_admin(settings.admin_email, settings.admin_password)
            print(f"admin account: {settings.admin_email}")
        if args.grant:
            if ledger.engine.dialect.name != "mssql":
                print("--grant applies to Azure SQL only; nothing to do")
            else:
                def grant() -> None:
                    with ledger.engine.begin() as c:
                        for statement in grant_statements(args.grant):
                            c.exec_driver_sql(statement)

                await asyncio.to_thread(grant)
                print(f"database user for {args.grant}: read and write")
    finally:
        ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
