"""``python -m shared.local``: run the whole system on this machine (what ``make run`` does).

Starts a redis-server child (unless REDIS_URL is set), restarted from its AOF whenever it
dies (``redis_supervisor.py``), and Azurite's blob service for event images (unless
IMAGE_CONNECTION or IMAGE_ACCOUNT_URL is set), migrates the SQLite ledger, creates
the admin account and demo events on an empty store, then serves the API and the SPA on
http://127.0.0.1:7071 with the payments consumers, the reconciler and the email sender
(whose SMTP sink, aiosmtpd, keeps every email under ``.local/mail/``): from ``WORKERS``
processes (one per CPU core by default; ``shared.local.workers``), or in this process when
``WORKERS=1``. Ctrl-C stops it all.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from shared import gc_tuning, telemetry
from shared.local import demo, event_loop
from shared.local.azurite import Azurite
from shared.local.keys import local_key
from shared.local.mail_sink import MailSink
from shared.local.redis_server import RedisServer
from shared.local.redis_supervisor import RedisSupervisor
from shared.local.stack import LocalStack
from shared.local.workers import Workers, worker_count
from shared.runtime import build_runtime
from shared.settings import Settings, from_env_or_exit


async def serve(settings: Settings) -> None:
    runtime = build_runtime(settings)
    try:
        await runtime.migrate()
        await runtime.accounts.ensure_admin(settings.admin_email, settings.admin_password)
        if settings.seed_demo and await runtime.catalog_store.count_events() == 0:
            print(f"seeded {await demo.seed(runtime.catalog)} demo events", flush=True)
        if (count := worker_count(settings)) > 1:
            await runtime.close()
            await serve_workers(settings, count)
            return
        dist = settings.static_dir / "dist"
        static = dist if (dist / "index.html").is_file() else settings.static_dir
        stack = LocalStack(runtime, host=settings.host, port=settings.port, static_dir=static,
                           reconcile_interval=settings.reconcile_interval_seconds)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stack.stop)

        async def banner() -> None:
            while not stack.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
                await asyncio.sleep(0.05)
            print_banner(settings)

        banner_task = asyncio.create_task(banner())
        gc_tuning.tune_for_serving()
        await stack.run()
        banner_task.cancel()
    finally:
        await runtime.close()


def print_banner(settings: Settings, workers: int = 1) -> None:
    url = f"http://{settings.host}:{settings.port}"
    print(f"\nLeap Ticketing is running at {url}"
          f"{f' ({workers} worker processes)' if workers > 1 else ''}\n"
          f"  API docs:   {url}/api/docs\n"
          f"  admin:      {settings.admin_email} / {settings.admin_password}\n"
          f"  test cards: tok_visa (pays), tok_chargeDeclined, tok_processingError\n"
          f"Press Ctrl-C to stop.\n", flush=True)


async def serve_workers(settings: Settings, count: int) -> None:
    """Run ``count`` worker processes until Ctrl-C; print the banner once they answer."""
    workers = Workers(settings, count)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    workers.start()

    async def banner() -> None:
        while not await _answers(settings.host, settings.port):  # noqa: ASYNC110 (a port)
            await asyncio.sleep(0.1)
        print_banner(settings, count)

    banner_task = asyncio.create_task(banner())
    await workers.supervise(stop.is_set)
    banner_task.cancel()


async def _answers(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    return True


def main() -> int:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = from_env_or_exit()
    telemetry.configure(settings)
    redis: RedisSupervisor | None = None
    if not settings.redis_url:
        redis = RedisSupervisor(RedisServer(settings.data_dir / "redis"))
        try:
            settings = settings.with_(redis_url=redis.start())
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"redis-server started on port {redis.server.port} "
              f"(data in {redis.server.data_dir}; restarted if it dies)", flush=True)
    if not settings.queue_token_secret:
        # Every worker process, and the next run, must verify the admission tokens it signs.
        settings = settings.with_(
            queue_token_secret=local_key(settings.data_dir, "queue-token.key"))
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
    azurite: Azurite | None = None
    if not (settings.image_connection or settings.image_account_url) and Azurite.installed():
        azurite = Azurite(settings.data_dir / "azurite")
        try:
            settings = settings.with_(image_connection=azurite.start())
            print(f"azurite (blob) started on port {azurite.port} (event images)", flush=True)
        except RuntimeError as exc:  # images answer 503; everything else runs
            print(f"azurite not started: {exc}", file=sys.stderr, flush=True)
            azurite = None
    try:
        event_loop.run(serve(settings))
    except KeyboardInterrupt:
        pass
    finally:
        if sink is not None:
            sink.stop()
        if azurite is not None:
            azurite.stop()
        if redis is not None:
            redis.stop()
            print("redis-server stopped", flush=True)
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
