"""``python -m shared.migrate``: apply ledger migrations (and create the admin account when
ADMIN_EMAIL and ADMIN_PASSWORD are set). Deployments run it once per release."""

from __future__ import annotations

import asyncio
import os
import sys

from shared.adapters.argon2_hasher import Argon2Hasher
from shared.adapters.sql_ledger import SqlLedger
from shared.models import now_ms
from shared.services.accounts import AccountService
from shared.settings import Settings


class _NoSessions:
    """Creating an account touches no session store."""

    async def add_session(self, *_: object) -> None: ...
    async def session(self, *_: object) -> None: ...
    async def revoke_session(self, *_: object) -> None: ...
    async def revoke_user_sessions(self, *_: object) -> list[str]: return []
    async def get(self, *_: object) -> None: ...
    async def put(self, *_: object) -> None: ...
    async def delete(self, *_: object) -> None: ...


async def main() -> int:
    settings = Settings.from_env()
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
    finally:
        ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
