"""RateLimiter in process memory: the same GCRA as ``lua/includes/gcra.lua``, per instance.

Degraded mode's stand-in while Redis is unreachable (``Limits`` falls back to it), so rate
limits and the login lockout keep applying. Per instance only: with N instances a client
may get up to N times the rate while Redis is down (written down in docs/architecture.md).
Bounded: past ``max_buckets`` the oldest half is forgotten.
"""

from __future__ import annotations

import math

from shared.settings import Rate


class MemoryRateLimiter:
    def __init__(self, max_buckets: int = 100_000) -> None:
        self._tat: dict[str, float] = {}
        self._max = max_buckets

    async def take(self, bucket: str, rate: Rate, now: int, *, cost: int = 1,
                   dry_run: bool = False) -> int:
        interval = rate.window_ms / rate.limit
        tat = self._tat.get(bucket, 0.0)
        new_tat = max(tat, now) + interval * cost
        allow_at = new_tat - rate.window_ms
        if now < allow_at:
            return math.ceil(allow_at - now)
        if not dry_run:
            if len(self._tat) >= self._max:
                for key in list(self._tat)[: self._max // 2]:
                    del self._tat[key]
            self._tat[bucket] = new_tat
        return 0

    async def reset(self, bucket: str) -> None:
        self._tat.pop(bucket, None)
