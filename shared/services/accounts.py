"""Accounts and sessions: register, log in, verify a bearer token, log out.

Sessions are written through: the SQL row is the durable copy, Redis the fast one (expiring
with the session). Verification reads Redis and falls back to SQL, refilling Redis. Tokens
are random; only their SHA-256 is stored anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import secrets
import uuid
from collections.abc import Callable

from shared.errors import EmailTaken, InvalidInput, Unauthorized
from shared.models import Principal, User
from shared.ports import PasswordHasher, SessionCache, SessionRepository, UserRepository
from shared.settings import Settings

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD = 8


def normalize_email(email: str) -> str:
    return email.strip().lower()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountService:
    def __init__(self, users: UserRepository, sessions: SessionRepository,
                 cache: SessionCache, hasher: PasswordHasher, settings: Settings,
                 clock: Callable[[], int]) -> None:
        self._users = users
        self._sessions = sessions
        self._cache = cache
        self._hasher = hasher
        self._settings = settings
        self._clock = clock
        self._dummy_hash: str | None = None

    async def register(self, email: str, password: str, display_name: str,
                       role: str = "user") -> User:
        email = normalize_email(email)
        if not _EMAIL.match(email):
            raise InvalidInput("not a valid email address", field="email")
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(f"password must have at least {MIN_PASSWORD} characters",
                               field="password")
        if not display_name.strip():
            raise InvalidInput("display name must not be blank", field="display_name")
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        user = User(id=str(uuid.uuid4()), email=email, display_name=display_name.strip(),
                    role=role, password_hash=password_hash, created_at=self._clock())
        if not await self._users.add_user(user):
            raise EmailTaken("an account with this email exists", field="email")
        return user

    async def login(self, email: str, password: str) -> tuple[str, Principal]:
        user = await self._users.user_by_email(normalize_email(email))
        if user is None:
            # Spend the same time as a real check, so response time does not reveal accounts.
            if self._dummy_hash is None:
                self._dummy_hash = await asyncio.to_thread(self._hasher.hash, "x" * 16)
            await asyncio.to_thread(self._hasher.verify, self._dummy_hash, password)
            raise Unauthorized("wrong email or password")
        if not await asyncio.to_thread(self._hasher.verify, user.password_hash, password):
            raise Unauthorized("wrong email or password")
        now = self._clock()
        principal = Principal(user_id=user.id, email=user.email,
                              display_name=user.display_name, role=user.role,
                              expires_at=now + self._settings.session_seconds * 1000)
        token = secrets.token_urlsafe(32)
        digest = token_hash(token)
        await self._sessions.add_session(digest, principal, now)
        await self._cache.put(digest, principal, principal.expires_at - now)
        return token, principal

    async def authenticate(self, token: str) -> Principal:
        digest = token_hash(token)
        now = self._clock()
        principal = await self._cache.get(digest)
        if principal is None:
            principal = await self._sessions.session(digest, now)
            if principal is not None:
                await self._cache.put(digest, principal, principal.expires_at - now)
        if principal is None or principal.expires_at <= now:
            raise Unauthorized("session expired or unknown; log in again")
        return principal

    async def logout(self, token: str) -> None:
        digest = token_hash(token)
        await self._sessions.revoke_session(digest, self._clock())
        await self._cache.delete(digest)

    async def ensure_admin(self, email: str, password: str) -> None:
        """Create the configured admin account when it does not exist (local runs)."""
        if await self._users.user_by_email(normalize_email(email)) is None:
            with contextlib.suppress(EmailTaken):  # another process created it first
                await self.register(email, password, "Administrator", role="admin")
