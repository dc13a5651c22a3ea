"""Local worker processes: ``make run`` serves the API from several processes (``WORKERS``,
one per CPU core by default), as Azure runs several instances.

The host (``python -m shared.local``) prepares everything once (redis-server, migrations,
admin, demo data), then starts the workers: each is ``python -m shared.local.workers`` with
the same settings, binds the same port with ``SO_REUSEPORT`` (the kernel spreads incoming
connections over them) and runs a whole ``LocalStack``: the API, one member of the payments
consumer group (and of the dead-letter one), and the reconciler loop, which only the holder
of the Redis reconciler lease runs. Beside them one ``python -m shared.local.mailer`` sends
the email outbox at a lower CPU priority (``mailer.py``). A process that dies is started
again; Ctrl-C (or SIGTERM) stops them all, then the host stops redis.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from shared import gc_tuning, telemetry
from shared.local import event_loop
from shared.local.redis_server import _die_with_parent
from shared.local.stack import LocalStack
from shared.runtime import build_runtime
from shared.settings import Settings, from_env_or_exit

log = logging.getLogger(__name__)
WORKER_INDEX = "LEAP_WORKER_INDEX"
MAILER = -1  # the email sender's key among the host's processes
MAILER_NICE = 10  # the sale's requests first; 19 starved emails under sustained load


def _mailer_child() -> None:
    _die_with_parent()
    os.nice(MAILER_NICE)


def worker_count(settings: Settings) -> int:
    return settings.workers if settings.workers > 0 else (os.cpu_count() or 1)


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening socket that other workers may bind too (SO_REUSEPORT)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(4096)
    sock.set_inheritable(False)
    return sock


def ensure_port_free(host: str, port: int) -> None:
    """Fail early, as a single process would, when something else holds the port: a plain
    bind (no SO_REUSEPORT) refuses, so the workers never join a foreign server's group."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


class Workers:
    """Starts, watches and stops the worker processes (the host's side)."""

    def __init__(self, settings: Settings, count: int, *, restart_delay: float = 1.0) -> None:
        self._settings = settings
        self._count = count
        self._restart_delay = restart_delay
        # Worker index -> process; MAILER: the email sender.
        self._procs: dict[int, subprocess.Popen[bytes]] = {}
        self._stopping = False

    def _spawn(self, index: int) -> None:
        s = self._settings
        mailer = index == MAILER
        env = {**os.environ, WORKER_INDEX: str(index), "REDIS_URL": s.redis_url,
               "HOST": s.host, "PORT": str(s.port), "LEAP_DATA_DIR": str(s.data_dir),
               "STATIC_DIR": str(s.static_dir), "QUEUE_TOKEN_SECRET": s.queue_token_secret,
               "SMTP_HOST": s.smtp_host, "SMTP_PORT": str(s.smtp_port),
               "IMAGE_CONNECTION": s.image_connection}
        self._procs[index] = subprocess.Popen(
            [sys.executable, "-m", "shared.local.mailer" if mailer else "shared.local.workers"],
            env=env, cwd=Path(__file__).resolve().parents[2],
            # No orphan if the host is killed; the mailer yields the CPU to the API.
            preexec_fn=_mailer_child if mailer else _die_with_parent)  # noqa: PLW1509

    def start(self) -> None:
        ensure_port_free(self._settings.host, self._settings.port)
        for index in (*range(self._count), MAILER):
            self._spawn(index)

    def stop(self) -> None:
        self._stopping = True
        for proc in self._procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    async def supervise(self, stopped: Callable[[], bool]) -> int:
        """Restart workers that die until ``stopped()``; then wait for all to exit."""
        while not (self._stopping or stopped()):
            for index, proc in list(self._procs.items()):
                if proc.poll() is not None and not self._stopping:
                    log.warning("%s exited with %s; starting it again",
                                "the mailer" if index == MAILER else f"worker {index}",
                                proc.returncode)
                    await asyncio.sleep(self._restart_delay)
                    self._spawn(index)
            await asyncio.sleep(0.2)
        self.stop()
        deadline = time.monotonic() + 20
        while any(p.poll() is None for p in self._procs.values()):
            if time.monotonic() > deadline:
                for p in self._procs.values():
                    if p.poll() is None:
                        p.kill()
                break
            await asyncio.sleep(0.05)
        return max((p.returncode or 0 for p in self._procs.values()), default=0)


async def serve_worker(settings: Settings, index: int) -> None:
    """One worker: a LocalStack on a shared port, its reconciler behind the lease."""
    runtime = build_runtime(settings)
    name = f"worker-{index}"
    try:
        dist = settings.static_dir / "dist"
        static = dist if (dist / "index.html").is_file() else settings.static_dir
        stack = LocalStack(runtime, host=settings.host, port=settings.port, static_dir=static,
                           reconcile_interval=settings.reconcile_interval_seconds,
                           worker=name, reconcile_lease=True, mail=False)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stack.stop)
        sock = listen_socket(settings.host, settings.port)
        log.warning("%s (pid %d): serving; payments consumer %s", name, os.getpid(),
                    stack.consumers[0].name)
        gc_tuning.tune_for_serving()
        await stack.run(sockets=[sock])
    finally:
        await runtime.close()


def child_main(serve: Callable[[Settings], Coroutine[Any, Any, None]]) -> int:
    """A child process of the host (a worker, the mailer): settings from the environment the
    host passed, telemetry, then ``serve`` on the local event loop."""
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = from_env_or_exit()
    telemetry.configure(settings)
    event_loop.run(serve(settings))
    return 0


def main() -> int:
    return child_main(lambda s: serve_worker(s, int(os.environ.get(WORKER_INDEX, "0"))))


if __name__ == "__main__":
    sys.exit(main())
