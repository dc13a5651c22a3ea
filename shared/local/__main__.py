"""``python -m shared.local``: run the whole system on this machine (what ``make run`` does).

Starts a redis-server child (unless REDIS_URL is set) and Azurite's blob service for event
images (unless IMAGE_CONNECTION or IMAGE_ACCOUNT_URL is set), migrates the SQLite ledger, creates
the admin account and demo events on an empty store, then serves the API and the SPA on
http://127.0.0.1:7071 with the payments consumers and the reconciler. Ctrl-C stops it all.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from dataclasses import replace

from shared import telemetry
from shared.local import demo
from shared.local.azurite import Azurite
from shared.local.redis_server import RedisServer
from shared.local.stack import LocalStack
from shared.runtime import build_runtime
from shared.settings import Settings


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
    settings = Settings.from_env()
    telemetry.configure()
    redis: RedisServer | None = None
    if not settings.redis_url:
        redis = RedisServer(settings.data_dir / "redis")
        try:
            settings = replace(settings, redis_url=redis.start())
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"redis-server started on port {redis.port} (data in {redis.data_dir})", flush=True)
    azurite: Azurite | None = None
    if not (settings.image_connection or settings.image_account_url) and Azurite.installed():
        azurite = Azurite(settings.data_dir / "azurite")
        try:
            settings = replace(settings, image_connection=azurite.start())
            print(f"azurite (blob) started on port {azurite.port} (event images)", flush=True)
        except RuntimeError as exc:  # images answer 503; everything else runs
            print(f"azurite not started: {exc}", file=sys.stderr, flush=True)
            azurite = None
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        pass
    finally:
        if azurite is not None:
            azurite.stop()
        if redis is not None:
            redis.stop()
            print("redis-server stopped", flush=True)
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
