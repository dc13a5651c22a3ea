"""The local stack in one event loop: the API under uvicorn, the payments consumer and the
dead-letter consumer on the Redis Stream, the reconciler every few seconds and the checkout
outbox relay every second. The local host runs it in the foreground; the tests run it in a
thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Generator
from pathlib import Path

import uvicorn

from shared.adapters.redis_stream_bus import StreamConsumer
from shared.api.app import create_app
from shared.runtime import Runtime

log = logging.getLogger(__name__)

OUTBOX_RELAY_INTERVAL_S = 1.0


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

    async def _every(self, seconds: float, name: str,
                     step: Callable[[int], Awaitable[object]]) -> None:
        while not self._stop.is_set():
            try:
                await step(self.runtime.clock())
            except Exception:
                log.exception("%s pass failed", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), seconds)

    async def run(self) -> None:
        self._stop = asyncio.Event()
        tasks = [asyncio.create_task(c.run(self._stop)) for c in self.consumers]
        tasks.append(asyncio.create_task(
            self._every(self._interval, "reconciler", self.runtime.reconciler.run_once)))
        tasks.append(asyncio.create_task(self._every(
            OUTBOX_RELAY_INTERVAL_S, "outbox relay", self.runtime.outbox_relay.run_once)))
        try:
            await self.server.serve()
        finally:
            self._stop.set()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
