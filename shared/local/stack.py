"""The local stack in one event loop: the API under uvicorn, the payments consumer and the
dead-letter consumer on the Redis Stream, the reconciler every few seconds, the checkout
outbox relay every second and the email sender. The local host runs it in the foreground (or
one per worker process, see ``workers``, with the email sender in a process of its own,
``mailer``); the tests run it in a thread.

With several stacks at once (worker processes), each is one member of the payments consumer
group, and the reconciler (with the outbox relay) runs in whichever holds a Redis lease
(``reconcile_lease``), so exactly one runs at a time and another takes over if its holder dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from typing import Any

import uvicorn
from redis.exceptions import LockError

from shared.adapters.redis_stream_bus import StreamConsumer
from shared.api.app import create_app
from shared.local.http_protocol import HeadWithBodyProtocol
from shared.runtime import Runtime

log = logging.getLogger(__name__)
UVICORN_MAX_HEAD_BYTES = 64 * 1024

OUTBOX_RELAY_INTERVAL_S = 1.0


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the stack's owner handles signals and calls LocalStack.stop()


RECONCILE_LEASE = "leap:reconciler:lease"


async def send_emails_until(runtime: Runtime, stop: asyncio.Event) -> None:
    """The email outbox's sender (the function app's ``send_emails`` timer in Azure)."""
    while not stop.is_set():
        try:
            await runtime.emails.send_due()
        except Exception:
            log.exception("email sender pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), runtime.settings.mail_interval_seconds)


class LocalStack:
    def __init__(self, runtime: Runtime, *, host: str, port: int,
                 static_dir: Path | None = None, reconcile_interval: float = 5.0,
                 access_log: bool = False, worker: str = "",
                 reconcile_lease: bool = False, mail: bool = True) -> None:
        """``mail=False``: another process sends the email outbox (``shared.local.mailer``)."""
        self.runtime = runtime
        self._mail = mail
        self.app = create_app(runtime, static_dir)
        self.worker = worker
        self.server = _Server(uvicorn.Config(
            self.app, host=host, port=port, lifespan="on", access_log=access_log,
            # Tags every response with the worker that served it; among uvicorn's own
            # headers it costs nothing per request, where a wrapping app cost a call.
            headers=[("x-served-by", worker)] if worker else None,
            http=HeadWithBodyProtocol,  # httptools, each response in one write
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
        self._lease = reconcile_lease
        self.reconciling = False  # True while this stack runs the reconciler
        s = runtime.settings
        name = f"{socket.gethostname()}-{os.getpid()}"
        self.consumers = [
            StreamConsumer(runtime.redis, runtime.stream_names, runtime.finalizer.handle_batch,
                           consumer=name, max_delivery_count=s.max_delivery_count,
                           redelivery_ms=s.redelivery_ms, batch=s.consumer_concurrency),
            StreamConsumer(runtime.redis, runtime.stream_names,
                           runtime.finalizer.handle_dead_letter_batch, consumer=name,
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
        # The lease outlives a few missed passes, so a busy holder keeps it; a dead one
        # loses it within that time and another stack takes over.
        lease = self.runtime.redis.lock(RECONCILE_LEASE, timeout=max(5.0, 3 * self._interval),
                                        thread_local=False)
        try:
            while not self._stop.is_set():
                if not self._lease or await self._hold_lease(lease):
                    try:
                        await self.runtime.reconciler.run_once(self.runtime.clock())
                    except Exception:
                        log.exception("reconciler pass failed")
                    # Each on its own: a failing reconciler pass must not strand refunds.
                    try:
                        await self.runtime.refunds.resume()  # refunds a crash left mid-way
                        await self.runtime.cancellations.resume()  # whole-event refund jobs
                    except Exception:
                        log.exception("refund resume pass failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._interval)
        finally:
            if self.reconciling:
                with contextlib.suppress(Exception):
                    await lease.release()

    async def _every(self, seconds: float, name: str,
                     step: Callable[[int], Awaitable[object]]) -> None:
        while not self._stop.is_set():
            try:
                await step(self.runtime.clock())
            except Exception:
                log.exception("%s pass failed", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), seconds)

    async def _relay_outbox(self, now: int) -> None:
        # Relaying is idempotent (publishes are deduplicated), but one relay is enough: the
        # stack that holds the reconciler's lease, or a stack that runs alone.
        if not self._lease or self.reconciling:
            await self.runtime.outbox_relay.run_once(now)

    async def _hold_lease(self, lease: Any) -> bool:
        """Take or renew the reconciler lease; True while this stack holds it."""
        try:
            if self.reconciling:
                await lease.reacquire()
            elif await lease.acquire(blocking=False):
                self.reconciling = True
                log.warning("%s: holds the reconciler lease", self.worker or "this stack")
        except LockError:
            log.warning("%s: lost the reconciler lease", self.worker or "this stack")
            self.reconciling = False
        except Exception as exc:  # Redis unreachable: try again next period
            log.warning("reconciler lease: %s", exc)
        return self.reconciling

    async def run(self, sockets: list[socket.socket] | None = None) -> None:
        self._stop = asyncio.Event()
        tasks = [asyncio.create_task(c.run(self._stop)) for c in self.consumers]
        tasks.append(asyncio.create_task(self._reconcile_loop()))
        tasks.append(asyncio.create_task(self._every(
            OUTBOX_RELAY_INTERVAL_S, "outbox relay", self._relay_outbox)))
        if self._mail:
            tasks.append(asyncio.create_task(send_emails_until(self.runtime, self._stop)))
        try:
            await self.server.serve(sockets=sockets)
        finally:
            self._stop.set()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
