"""Tells clients the shop runs in degraded mode: while the Redis breaker is open, every API
answer carries ``Leap-Degraded: redis`` (the SPA shows "Busy but selling"). Pure ASGI, so
it costs one attribute read per response."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.breaker import CircuitBreaker

HEADER = "Leap-Degraded"
_HEADER = HEADER.lower().encode()


def notice(breaker: CircuitBreaker) -> tuple[bytes, bytes] | None:
    """The header an API answer carries now, if any (the fast path adds it itself)."""
    return (_HEADER, breaker.dependency.encode()) if breaker.is_open else None


class DegradedNotice:
    def __init__(self, app: ASGIApp, breaker: Callable[[], CircuitBreaker]) -> None:
        self.app = app
        self._breaker = breaker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def send_with_notice(message: Message) -> None:
            if message["type"] == "http.response.start" and (
                    header := notice(self._breaker())) is not None:
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        await self.app(scope, receive, send_with_notice)
