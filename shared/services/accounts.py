"""Accounts and sessions: register, log in, verify a bearer token, change password, log out.

Sessions are written through: the SQL row is the durable copy, Redis the fast one (expiring
with the session). Verification reads a small in-process cache first (so a hold costs no
session round trip), then Redis, then SQL, refilling on the way back. Logout and password
change revoke in SQL and Redis and publish the token hashes, so every instance drops them
from its in-process cache at once. Tokens are random; only their SHA-256 is stored anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shared import ids
from shared.errors import EmailTaken, InvalidInput, StoreUnavailable, Unauthorized
from shared.models import Principal, User
from shared.ports import (
    PasswordHasher,
    RevocationFeed,
    SessionCache,
    SessionRepository,
    UserRepository,
)
from shared.services.limits import Limits
from shared.settings import Settings
from shared.text_rules import canonical_email, text_problem, valid_email

# The most common passwords of public breach lists that pass the length rule.
COMMON = frozenset({
    "1234567890", "password123", "qwertyuiop", "1q2w3e4r5t", "password1234", "iloveyou123",
    "qwerty1234", "0987654321", "1111111111", "abcdefghij", "passw0rd123", "letmein123",
    "welcome123", "football123", "administrator", "qwertyuiop1", "changeme123",
})
LOCAL_CACHE_MAX = 50_000
PASSWORD_MAX_LENGTH = 128
PASSWORD_MIN_DISTINCT = 4
log = logging.getLogger(__name__)


def password_problem(password: str, email: str, min_length: int) -> str | None:
    """Why a password is refused, or None. Length over composition rules (NIST 800-63B)."""
    if len(password) < min_length:
        return f"password must have at least {min_length} characters"
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"password must have at most {PASSWORD_MAX_LENGTH} characters"
    if len(set(password)) < PASSWORD_MIN_DISTINCT:
        return f"password must use at least {PASSWORD_MIN_DISTINCT} different characters"
    if password.lower() in COMMON:
        return "this password is too common"
    local = email.split("@", maxsplit=1)[0].lower()
    if len(local) >= 4 and local in password.lower():
        return "password must not contain your email name"
    return None


@dataclass(frozen=True)
class PasswordPolicy:
    """The rules ``password_problem`` applies, for forms to state up front (one source)."""

    min_length: int
    max_length: int = PASSWORD_MAX_LENGTH
    min_distinct: int = PASSWORD_MIN_DISTINCT
    rejects_common: bool = True
    rejects_email_name: bool = True


def password_policy(settings: Settings) -> PasswordPolicy:
    return PasswordPolicy(min_length=settings.password_min_length)



def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountService:
    def __init__(self, users: UserRepository, sessions: SessionRepository,
                 cache: SessionCache, hasher: PasswordHasher, settings: Settings,
                 clock: Callable[[], int], *, limits: Limits | None = None,
                 feed: RevocationFeed | None = None) -> None:
        self._users = users
        self._sessions = sessions
        self._cache = cache
        self._hasher = hasher
        self._settings = settings
        self._clock = clock
        self._limits = limits
        self._feed = feed
        self._dummy_hash: str | None = None
        # token hash -> (principal, monotonic time until which it may be trusted)
        self._local: dict[str, tuple[Principal, float]] = {}
        self._unflushed: set[str] = set()  # revoked while Redis was down

    async def register(self, email: str, password: str, display_name: str,
                       role: str = "user", *, enforce_policy: bool = True) -> User:
        email = valid_email(email)
        problem = password_problem(password, email, self._settings.password_min_length)
        if problem and enforce_policy:
            raise InvalidInput(problem, field="password")
        if not display_name.strip():
            raise InvalidInput("display name must not be blank", field="display_name")
        if refused := text_problem(display_name):
            raise InvalidInput(refused, field="display_name")
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        user = User(id=ids.new_id(), email=email, display_name=display_name.strip(),
                    role=role, password_hash=password_hash, created_at=self._clock())
        if not await self._users.add_user(user):
            raise EmailTaken("an account with this email exists", field="email")
        return user

    async def login(self, email: str, password: str) -> tuple[str, Principal]:
        # The canonical form only (no syntax check): a look-alike of an account's address
        # reaches that account, anything else is a wrong email (401).
        email = canonical_email(email)
        if self._limits:
            await self._limits.ensure_not_locked(email)
        user = await self._users.user_by_email(email)
        if user is None:
            # Spend the same time as a real check, so response time does not reveal accounts.
            if self._dummy_hash is None:
                self._dummy_hash = await asyncio.to_thread(self._hasher.hash, "x" * 16)
            await asyncio.to_thread(self._hasher.verify, self._dummy_hash, password)
        elif await asyncio.to_thread(self._hasher.verify, user.password_hash, password):
            if self._limits:
                await self._limits.login_succeeded(email)
            return await self._new_session(user)
        if self._limits:
            await self._limits.login_failed(email)
        raise Unauthorized("wrong email or password")

    async def _new_session(self, user: User) -> tuple[str, Principal]:
        now = self._clock()
        principal = Principal(user_id=user.id, email=user.email,
                              display_name=user.display_name, role=user.role,
                              expires_at=now + self._settings.session_seconds * 1000)
        token = secrets.token_urlsafe(32)
        digest = token_hash(token)
        await self._sessions.add_session(digest, principal, now)
        await self._cache_put(digest, principal, principal.expires_at - now)
        return token, principal

    async def _cache_put(self, digest: str, principal: Principal, ttl_ms: int) -> None:
        with contextlib.suppress(StoreUnavailable):  # SQL has it; Redis is only the cache
            await self._cache.put(digest, principal, ttl_ms)

    async def authenticate(self, token: str) -> Principal:
        digest = token_hash(token)
        now = self._clock()
        local = self._local.get(digest)
        if local is not None and local[1] > time.monotonic() and local[0].expires_at > now:
            return local[0]
        try:
            principal = await self._cache.get(digest)
        except StoreUnavailable:  # Redis down: the SQL row is the durable copy
            principal = None
        if principal is None:
            principal = await self._sessions.session(digest, now)
            if principal is not None:
                await self._cache_put(digest, principal, principal.expires_at - now)
        if principal is None or principal.expires_at <= now:
            self._local.pop(digest, None)
            raise Unauthorized("session expired or unknown; log in again")
        if len(self._local) >= LOCAL_CACHE_MAX:
            self._local.clear()  # crude but bounded; entries refill on the next request
        self._local[digest] = (principal, time.monotonic() + self._settings.session_cache_seconds)
        return principal

    def drop_cached(self, token_hashes: Sequence[str]) -> None:
        """Forget revoked sessions (called by the revocation feed on every instance)."""
        for digest in token_hashes:
            self._local.pop(digest, None)

    async def _revoke(self, digests: Sequence[str]) -> None:
        self.drop_cached(digests)
        try:
            for digest in digests:
                await self._cache.delete(digest)
            if self._feed is not None:
                await self._feed.publish(digests)
        except StoreUnavailable:
            # Revoked in SQL already. Redis may come back with its copies: delete them then
            # (flush_revocations, run by the recovery merge). Other instances' in-process
            # caches keep the session for at most SESSION_CACHE_SECONDS.
            self._unflushed.update(digests)

    async def flush_revocations(self) -> None:
        """Delete from Redis the sessions revoked while it was unreachable."""
        for digest in list(self._unflushed):
            await self._cache.delete(digest)
            self._unflushed.discard(digest)

    async def logout(self, token: str) -> None:
        digest = token_hash(token)
        await self._sessions.revoke_session(digest, self._clock())
        await self._revoke([digest])

    async def change_password(self, user: Principal, current: str,
                              new: str) -> tuple[str, Principal]:
        """Set a new password, end every session of the user, and open a fresh one."""
        record = await self._users.user_by_id(user.user_id)
        if record is None or not await asyncio.to_thread(
                self._hasher.verify, record.password_hash, current):
            raise InvalidInput("current password is wrong", field="current_password")
        if problem := password_problem(new, record.email, self._settings.password_min_length):
            raise InvalidInput(problem, field="new_password")
        if new == current:
            raise InvalidInput("choose a password different from the current one",
                               field="new_password")
        await self._users.set_password_hash(
            record.id, await asyncio.to_thread(self._hasher.hash, new))
        await self._revoke(await self._sessions.revoke_user_sessions(record.id, self._clock()))
        return await self._new_session(record)

    async def ensure_admin(self, email: str, password: str) -> None:
        """Create the configured admin account when it does not exist. The operator chose
        its password (ADMIN_PASSWORD), so the policy only warns."""
        if await self._users.user_by_email(canonical_email(email)) is None:
            if problem := password_problem(password, email, self._settings.password_min_length):
                log.warning("ADMIN_PASSWORD is weak (%s); set a strong one outside local runs",
                            problem)
            with contextlib.suppress(EmailTaken):  # another process created it first
                await self.register(email, password, "Administrator", role="admin",
                                    enforce_policy=False)
