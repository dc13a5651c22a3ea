"""A circuit breaker for one dependency (Redis): decide quickly that it is down.

Closed: calls go through; ``failures`` consecutive connection failures trip it. Open: calls
are refused at once (no connect timeout is waited out), and after ``open_seconds`` one
background probe runs (``probe``: ping, then the recovery merge); its success closes the
breaker, its failure keeps it open for twice as long (up to ``max_open_seconds``). Requests
never wait for the probe: while it runs they keep being refused, so they take the degraded
path. Pure logic: no Redis import; the guarded client (``adapters/redis_guard``) reports to
it and asks it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from shared import telemetry

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[None]]


class CircuitBreaker:
    def __init__(self, dependency: str, *, failures: int = 3, open_seconds: float = 1.0,
                 max_open_seconds: float = 15.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.dependency = dependency
        self._threshold = max(1, failures)
        self._base_open = open_seconds
        self._max_open = max(open_seconds, max_open_seconds)
        self._clock = clock
        self._failures = 0
        self._open_for = open_seconds
        self._retry_at: float | None = None  # None: closed
        self._probe: Probe | None = None
        self._probing: asyncio.Task[None] | None = None
        self.trips = 0

    def set_probe(self, probe: Probe) -> None:
        """What must succeed before calls go through again (ping + recovery merge)."""
        self._probe = probe

    @property
    def is_open(self) -> bool:
        return self._retry_at is not None

    def allow(self) -> bool:
        """True when a call may go to the dependency; while open, maybe start the probe."""
        if self._retry_at is None:
            return True
        if self._clock() >= self._retry_at and self._probing is None:
            if self._probe is None:
                # No probe configured: this one call is the probe (classic half-open).
                self._retry_at = self._clock() + self._open_for
                return True
            self._probing = asyncio.get_running_loop().create_task(self._run_probe())
        return False

    def record_success(self) -> None:
        self._failures = 0
        if self._retry_at is not None and self._probe is None:
            self._close()

    def record_failure(self) -> None:
        self._failures += 1
        if self._retry_at is None and self._failures >= self._threshold:
            self._trip()
        elif self._retry_at is not None and self._probe is None:
            self._reopen()

    def _trip(self) -> None:
        self.trips += 1
        self._open_for = self._base_open
        self._retry_at = self._clock() + self._open_for
        telemetry.breaker_trips.add(1, {"dependency": self.dependency})
        log.warning("breaker: %s is unreachable; degraded mode for %.1fs before a probe",
                    self.dependency, self._open_for)

    def _reopen(self) -> None:
        self._open_for = min(self._open_for * 2, self._max_open)
        self._retry_at = self._clock() + self._open_for

    def _close(self) -> None:
        self._retry_at = None
        self._failures = 0
        self._open_for = self._base_open
        log.warning("breaker: %s answers again; leaving degraded mode", self.dependency)

    async def _run_probe(self) -> None:
        assert self._probe is not None
        try:
            await self._probe()
        except Exception as exc:  # still down (or the merge failed): stay open, back off
            log.info("breaker: probe of %s failed: %s", self.dependency, exc)
            self._reopen()
        else:
            self._close()
        finally:
            self._probing = None

    async def wait_probe(self) -> None:
        """Wait for a running probe (tests, shutdown)."""
        if self._probing is not None:
            await asyncio.gather(self._probing, return_exceptions=True)
