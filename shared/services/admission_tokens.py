"""Admission tokens of the waiting room: signed, short-lived, bound to one account and one
event. HMAC-SHA256 over (user, event, expiry) with a key from settings, so any instance can
verify a token with no Redis round trip (and while Redis is down)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

VERSION = "q1"


class AdmissionTokens:
    def __init__(self, secret: str) -> None:
        # No configured key: a random one for this process (one local host, or tests).
        self._key = (secret or secrets.token_urlsafe(32)).encode()

    def _signature(self, user_id: str, event_id: str, expires_at: int) -> str:
        message = f"{VERSION}\n{user_id}\n{event_id}\n{expires_at}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self, user_id: str, event_id: str, expires_at: int) -> str:
        return f"{VERSION}.{expires_at}.{self._signature(user_id, event_id, expires_at)}"

    def valid(self, token: str, user_id: str, event_id: str, now: int) -> bool:
        """True for a token issued to this user for this event that has not expired."""
        version, _, rest = token.partition(".")
        expires, _, signature = rest.partition(".")
        if version != VERSION or not expires.isdigit() or len(expires) > 15:
            return False
        expires_at = int(expires)
        expected = self._signature(user_id, event_id, expires_at)
        return hmac.compare_digest(expected, signature) and now < expires_at
