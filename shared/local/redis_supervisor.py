"""Keeps the local host's redis-server child alive: when it dies (a crash, ``kill -9``, the
OOM killer), it is started again on the same port and the same data directory, so it
replays its AOF and every client reconnects to the same URL. Restarts back off (doubling up
to a cap, reset after the child has stayed up a while) and each one is logged.

A watcher thread polls the child. Restarted children are spawned by that thread, and a
child's parent-death signal follows the thread that spawned it: the thread therefore lives
until ``stop``, which stops the child first.
"""

from __future__ import annotations

import logging
import threading
import time

from shared.local.redis_server import RedisServer

log = logging.getLogger("leap.redis")


class RedisSupervisor:
    def __init__(self, server: RedisServer, *, backoff_s: float = 0.5,
                 max_backoff_s: float = 30.0, stable_s: float = 60.0,
                 poll_s: float = 0.2) -> None:
        self.server = server
        self.restarts = 0
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._stable_s = stable_s
        self._poll_s = poll_s
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # a restart and stop() never interleave
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Start redis-server and watch it; returns its URL (raises RuntimeError)."""
        url = self.server.start()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._watch, name="redis-supervisor",
                                        daemon=True)
        self._thread.start()
        return url

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            self.server.stop()
        if self._thread is not None:
            self._thread.join(10)

    def _watch(self) -> None:
        delay = self._backoff_s
        up_since = time.monotonic()
        while not self._stopping.wait(self._poll_s):
            process = self.server.process
            if process is not None and process.poll() is None:
                if time.monotonic() - up_since > self._stable_s:
                    delay = self._backoff_s  # stayed up: the next crash restarts promptly
                continue
            code = process.returncode if process is not None else None
            log.error("redis-server on port %d exited (code %s); restarting in %.1f s from "
                      "its AOF in %s", self.server.port, code, delay, self.server.data_dir)
            if self._stopping.wait(delay):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                try:
                    self.server.start()
                except RuntimeError as exc:
                    log.error("redis-server restart failed: %s", exc)
                    delay = min(delay * 2, self._max_backoff_s)
                    continue
            self.restarts += 1
            up_since = time.monotonic()
            log.warning("redis-server restarted on port %d (restart %d)", self.server.port,
                        self.restarts)
            delay = min(delay * 2, self._max_backoff_s)
