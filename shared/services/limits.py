"""Request limits: what API Management would throttle, enforced by the app itself.

Per client IP on register and login, per user on holds and checkout (the per-user limit per
event lives inside the hold script), and a lockout per account after repeated failed logins.
Every limit is one atomic Redis script; a refusal raises TooManyRequests with Retry-After.
While Redis is unreachable, the same limits apply from an in-process limiter (``fallback``).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable

from shared.errors import LoginLocked, StoreUnavailable, TooManyRequests
from shared.ports import RateLimiter
from shared.settings import Rate, Settings


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


HOLD_REQUESTS = "hold requests"
CHECKOUT_REQUESTS = "checkout requests"


class Limits:
    def __init__(self, limiter: RateLimiter, settings: Settings,
                 clock: Callable[[], int], fallback: RateLimiter | None = None) -> None:
        self._limiter = limiter
        self._settings = settings
        self._clock = clock
        self._fallback = fallback

    async def take(self, bucket: str, rate: Rate, *, dry_run: bool = False) -> int:
        """Milliseconds to wait (0: allowed), from Redis or, while it is down, in process."""
        try:
            return await self._limiter.take(bucket, rate, self._clock(), dry_run=dry_run)
        except StoreUnavailable:
            if self._fallback is None:
                raise
            return await self._fallback.take(bucket, rate, self._clock(), dry_run=dry_run)

    @staticmethod
    def refused(what: str, wait_ms: int) -> TooManyRequests:
        """The 429 for ``what`` (e.g. "hold requests"), also when a script took the bucket."""
        return TooManyRequests(f"too many {what}; retry in {-(-wait_ms // 1000)} s",
                               retry_after_ms=wait_ms)

    async def _take(self, bucket: str, rate: Rate, what: str) -> None:
        if wait := await self.take(bucket, rate):
            raise self.refused(what, wait)

    async def auth_attempt(self, action: str, client_ip: str) -> None:
        await self._take(f"rl:{action}:ip:{client_ip}", self._settings.rate_auth_per_ip,
                         f"{action} attempts from this address")

    def hold_bucket(self, user_id: str) -> tuple[str, Rate]:
        """The buyer's cross-event hold bucket, for a store that takes it with the hold."""
        return f"rl:holds:user:{user_id}", self._settings.rate_holds_per_user

    async def hold_attempt(self, user_id: str) -> None:
        await self._take(*self.hold_bucket(user_id), HOLD_REQUESTS)

    def checkout_bucket(self, user_id: str) -> tuple[str, Rate]:
        """The buyer's checkout bucket, for a store that takes it with the checkout."""
        return f"rl:checkout:user:{user_id}", self._settings.rate_checkout_per_user

    async def checkout_attempt(self, user_id: str) -> None:
        await self._take(*self.checkout_bucket(user_id), CHECKOUT_REQUESTS)

    def _lock_key(self, email: str) -> str:
        return f"rl:login-failures:{_digest(email)}"  # no addresses in key names

    async def ensure_not_locked(self, email: str) -> None:
        wait = await self.take(self._lock_key(email), self._settings.login_lockout,
                               dry_run=True)
        if wait:
            raise LoginLocked("too many failed logins for this account; "
                              f"try again in {-(-wait // 60_000)} min", retry_after_ms=wait)

    async def login_failed(self, email: str) -> None:
        await self.take(self._lock_key(email), self._settings.login_lockout)

    async def login_succeeded(self, email: str) -> None:
        # While Redis is down its lockout bucket cannot be reset; it drains by itself.
        with contextlib.suppress(StoreUnavailable):
            await self._limiter.reset(self._lock_key(email))
        if self._fallback is not None:
            await self._fallback.reset(self._lock_key(email))
