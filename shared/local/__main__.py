"""``python -m shared.local``: run the whole system on this machine (what ``make run`` does).

Starts a redis-server child (unless REDIS_URL is set), migrates the SQLite ledger, creates
the admin account and demo events on an empty store, then serves the API and the SPA on
http://127.0.0.1:7071 with the payments consumers, the reconciler and the email sender,
whose SMTP sink (aiosmtpd) keeps every email under ``.local/mail/``. Ctrl-C stops it all.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from shared import telemetry
from shared.local import demo
from shared.local.mail_sink import MailSink
from shared.local.redis_server import RedisServer
from shared.local.stack import LocalStack
from shared.runtime import build_runtime
from shared.settings import Settings, SettingsError


async def serve(settings: Settings) -> None:
    runtime = build_runtime(settings)
    try:
        await runtime.migrate()
        await runtime.accounts.ensure_admin(settings.admin_email, settings.admin_password)
        if settings.seed_demo and await runtime.catalog_store.count_events() == 0:
            print(f"seeded {await demo.seed(runtime.catalog)} demo events", flush=True)
        dist = settings.static_dir / "dist"
        static = dist if (dist / "index.html").is_file() else settings.static_dir
        stack = LocalStack(runtime, host=settings.host, port=settings.port, static_dir=static,
                           reconcile_interval=settings.reconcile_interval_seconds,
                           access_log=True)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stack.stop)

        async def banner() -> None:
            while not stack.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
                await asyncio.sleep(0.05)
            url = f"http://{settings.host}:{settings.port}"
            print(f"\nLeap Ticketing is running at {url}\n"
                  f"  API docs:   {url}/api/docs\n"
                  f"  admin:      {settings.admin_email} / {settings.admin_password}\n"
                  f"  test cards: tok_visa (pays), tok_chargeDeclined, tok_processingError\n"
                  f"Press Ctrl-C to stop.\n", flush=True)

        banner_task = asyncio.create_task(banner())
        await stack.run()
        banner_task.cancel()
    finally:
        await runtime.close()


def main() -> int:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:  # the operator's mistake: say which, no traceback
        print(exc, file=sys.stderr)
        return 2
    telemetry.configure(settings)
    redis: RedisServer | None = None
    if not settings.redis_url:
        redis = RedisServer(settings.data_dir / "redis")
        try:
            settings = settings.with_(redis_url=redis.start())
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"redis-server started on port {redis.port} (data in {redis.data_dir})", flush=True)
    sink: MailSink | None = None
    if settings.mail_backend == "smtp" and not settings.smtp_host:
        sink = MailSink(settings.data_dir / "mail", port=settings.smtp_port)
        try:
            sink.start()
        except (OSError, RuntimeError) as exc:
            print(f"mail sink: cannot listen on port {settings.smtp_port} ({exc}); set "
                  "SMTP_PORT to a free port", file=sys.stderr)
            if redis is not None:
                redis.stop()
            return 1
        settings = settings.with_(smtp_host=sink.host)
        print(f"mail sink on smtp://{sink.host}:{sink.port}: emails are kept as .eml files in "
              f"{sink.folder.resolve()}", flush=True)
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        pass
    finally:
        if sink is not None:
            sink.stop()
        if redis is not None:
            redis.stop()
            print("redis-server stopped", flush=True)
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
