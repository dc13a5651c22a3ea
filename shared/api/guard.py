"""A pure-ASGI guard in front of the API: request bodies are JSON and at most
``max_body_bytes`` (413 / 415 problem+json otherwise, before any route runs), URLs and
header blocks are bounded (414 / 431), every response carries the security headers, a
redirect's Location is relative (never built from the Host header), and an unexpected
exception becomes a bare 500 problem+json (here when it reaches the guard unanswered; the
app's own error middleware, inside the guard, answers with ``internal_problem`` too).
Bodies are buffered here (they are small by rule), so a chunked upload cannot slip past the
limit. A request that passes is offered to the ``fast`` responder first (the on-sale's hot
requests, ``fast_path``), then to the app."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# ``fast(scope, headers, body, send)``: answers a request that passed the guard's checks and
# returns True, or returns False to leave it to the app (``fast_path.FastPath``).
FastResponder = Callable[[Scope, dict[bytes, bytes], bytes, Send], Awaitable[bool]]

API_CSP = "default-src 'none'; frame-ancestors 'none'"
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
API_CSP_BYTES, PAGE_CSP_BYTES = API_CSP.encode(), PAGE_CSP.encode()
COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    # The camera serves the door check-in page (same origin only).
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
]
# What every API answer carries (the fast path puts it in its answers itself).
API_SECURITY = [(b"content-security-policy", API_CSP_BYTES), *COMMON]
WITH_BODY = {"POST", "PUT", "PATCH"}
# Below the local server's own head limit (shared/local/stack.py), so the app answers first.
MAX_URL_BYTES = 8 * 1024
MAX_HEADER_BYTES = 32 * 1024
# Issue 15: event image uploads are the one raw (non-JSON) body, with their own size limit;
# the route checks the image itself.
UPLOAD_PATH = re.compile(r"^/api/admin/events/[^/]+/image$")
log = logging.getLogger(__name__)


def relative_location(location: bytes) -> bytes:
    """A redirect target as a path on this site. Starlette builds absolute redirects from the
    request's Host header (``Host: evil.example`` would send the client there); the API never
    redirects off-site, so scheme and host are dropped, and leading slashes or backslashes
    collapse to one so the result cannot be read as ``//other.host``."""
    parts = urlsplit(location.decode("latin-1"))
    path = "/" + parts.path.lstrip("/\\ \t\r\n")
    if parts.query:
        path += "?" + parts.query
    return path.encode("latin-1")


def _problem(status: int, code: str, title: str, detail: str, path: str) -> tuple[
        dict[str, Any], bytes]:
    body = json.dumps({"type": f"/problems/{code}", "title": title, "status": status,
                       "detail": detail, "instance": path}).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/problem+json"),
                         (b"content-length", str(len(body)).encode())]}
    return start, body


def internal_problem(path: str) -> tuple[dict[str, Any], bytes]:
    """The bare 500: no exception text, no trace (those go to the log)."""
    return _problem(500, "internal", "Internal server error", "something went wrong on our side",
                    path)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the already-read ``body`` as one message, then
    passes on to the connection's own (for a disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class Guard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int = 0,
                 fast: FastResponder | None = None) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.max_upload = max_upload_bytes
        self.fast = fast

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        csp = (API_CSP_BYTES if path.startswith("/api/") and not path.startswith("/api/docs")
               else PAGE_CSP_BYTES)

        started = False

        async def send_secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", [])
                           if h[0].lower() != b"content-security-policy"]
                if not path.startswith("/api/docs"):  # Swagger UI loads its own assets
                    headers.append((b"content-security-policy", csp))
                if 300 <= message["status"] < 400:
                    headers = [(k, relative_location(v)) if k.lower() == b"location" else (k, v)
                               for k, v in headers]
                message = {**message, "headers": headers + COMMON}
            await send(message)

        try:
            await self._guarded(scope, receive, send, send_secured, path)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], path)
            if started:
                raise
            start, body = internal_problem(path)
            await send_secured(start)
            await send_secured({"type": "http.response.body", "body": body})

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, send_secured: Send,
                       path: str) -> None:
        url_bytes = len(scope.get("raw_path") or path.encode()) + len(scope["query_string"])
        if url_bytes > MAX_URL_BYTES:
            start, body = _problem(414, "uri-too-long", "URI too long",
                                   f"request URLs are limited to {MAX_URL_BYTES} bytes",
                                   path[:200])
            await send_secured(start)
            await send_secured({"type": "http.response.body", "body": body})
            return
        if sum(len(k) + len(v) + 4 for k, v in scope["headers"]) > MAX_HEADER_BYTES:
            start, body = _problem(431, "headers-too-large", "Request header fields too large",
                                   f"request headers are limited to {MAX_HEADER_BYTES} bytes",
                                   path[:200])
            await send_secured(start)
            await send_secured({"type": "http.response.body", "body": body})
            return
        headers = dict(scope["headers"])
        if scope["method"] not in WITH_BODY:
            # The fast path's answers carry the security headers already: its raw ``send``.
            if self.fast is None or not await self.fast(scope, headers, b"", send):
                await self.app(scope, receive, send_secured)
            return
        upload = bool(self.max_upload and UPLOAD_PATH.match(path))
        limit = self.max_upload if upload else self.max_body
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send_secured, 413, path, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(send_secured, 413, path, limit)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if body and not upload and ctype != b"application/json" and not ctype.endswith(b"+json"):
            await self._refuse(send_secured, 415, path, limit)
            return
        if self.fast is None or not await self.fast(scope, headers, body, send):
            await self.app(scope, replaying(body, receive), send_secured)

    async def _refuse(self, send: Send, status: int, path: str, limit: int) -> None:
        if status == 413:
            start, body = _problem(413, "body-too-large", "Request body too large",
                                   f"request bodies are limited to {limit} bytes", path)
        else:
            start, body = _problem(415, "unsupported-media-type", "Unsupported media type",
                                   "send the request body as application/json", path)
        await send(start)
        await send({"type": "http.response.body", "body": body})
