"""The local stack in one event loop: the API under uvicorn, the payments consumer and the
dead-letter consumer on the Redis Stream, and the reconciler every few seconds. The local
host runs it in the foreground; the tests run it in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Generator
from pathlib import Path

import uvicorn

from shared.adapters.redis_stream_bus import StreamConsumer
from shared.api.app import create_app
from shared.runtime import Runtime

log = logging.getLogger(__name__)
UVICORN_MAX_HEAD_BYTES = 64 * 1024


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the stack's owner handles signals and calls LocalStack.stop()


class LocalStack:
    def __init__(self, runtime: Runtime, *, host: str, port: int,
                 static_dir: Path | None = None, reconcile_interval: float = 5.0,
                 access_log: bool = False) -> None:
        self.runtime = runtime
        self.app = create_app(runtime, static_dir)
        self.server = _Server(uvicorn.Config(
            self.app, host=host, port=port, lifespan="on", access_log=access_log,
            log_level="warning", timeout_graceful_shutdown=5, backlog=4096,
            # The app alone decides the client address (shared/api/deps.py client_ip);
            # uvicorn's default would trust X-Forwarded-For from 127.0.0.1.
            proxy_headers=False,
            # Room above the guard's URL and header limits, so that the app (not h11's
            # plain-text 400) answers oversized request heads up to this size.
            h11_max_incomplete_event_size=UVICORN_MAX_HEAD_BYTES,
        ))
        self._stop = asyncio.Event()
        self._interval = reconcile_interval
        s = runtime.settings
        name = f"{socket.gethostname()}-{os.getpid()}"
        self.consumers = [
            StreamConsumer(runtime.redis, runtime.stream_names, runtime.finalizer.handle,
                           consumer=name, max_delivery_count=s.max_delivery_count,
                           redelivery_ms=s.redelivery_ms, batch=s.consumer_concurrency),
            StreamConsumer(runtime.redis, runtime.stream_names,
                           runtime.finalizer.handle_dead_letter, consumer=name,
                           dead_letter_stream=True, redelivery_ms=s.redelivery_ms,
                           batch=s.consumer_concurrency),
        ]

    @property
    def started(self) -> bool:
        return bool(self.server.started)

    def stop(self) -> None:
        self._stop.set()
        self.server.should_exit = True

    async def _reconcile_loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.runtime.reconciler.run_once(self.runtime.clock())
                await self.runtime.refunds.resume()  # refunds a crash left between steps
                await self.runtime.cancellations.resume()  # whole-event refund jobs
            except Exception:
                log.exception("reconciler pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)

    async def run(self) -> None:
        self._stop = asyncio.Event()
        tasks = [asyncio.create_task(c.run(self._stop)) for c in self.consumers]
        tasks.append(asyncio.create_task(self._reconcile_loop()))
        try:
            await self.server.serve()
        finally:
            self._stop.set()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
