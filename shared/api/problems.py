"""RFC 9457 problem details: every error the API answers is ``application/problem+json``.

Validation errors name the offending field (``items[0].quantity``); dependency failures
answer 503 naming the dependency. Anything unexpected is a bare 500 (``guard.py``'s; details
go to the log, never to the client).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from shared.api.guard import internal_problem
from shared.errors import DomainError, TooManyRequests

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
TITLES = {400: "Bad request", 401: "Authentication required", 403: "Forbidden",
           404: "Not found", 405: "Method not allowed", 409: "Conflict",
           413: "Request body too large", 414: "URI too long",
           415: "Unsupported media type", 431: "Request header fields too large",
           422: "Invalid input", 429: "Too many requests", 500: "Internal server error",
           503: "Service unavailable"}


class Problem(NamedTuple):
    """A problem+json answer, rendered once: the app answers it as a ``Response``, the fast
    path (``fast_path``) as its raw ASGI messages."""

    status: int
    body: bytes
    headers: dict[str, str]

    def response(self) -> Response:
        return Response(self.body, status_code=self.status, media_type=PROBLEM,
                        headers=self.headers or None)


def render(status: int, code: str, detail: str, *, title: str | None = None,
           instance: str | None = None, **extra: Any) -> bytes:
    """The problem document's bytes, as the app's ``JSONResponse`` renders JSON."""
    body: dict[str, Any] = {
        "type": f"/problems/{code}", "title": title or TITLES.get(status, "Error"),
        "status": status, "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return json.dumps(body, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode()


def problem(status: int, code: str, detail: str, *, title: str | None = None,
            instance: str | None = None, headers: Mapping[str, str] | None = None,
            **extra: Any) -> Response:
    return Problem(status, render(status, code, detail, title=title, instance=instance,
                                  **extra), dict(headers or {})).response()


def field_path(loc: Sequence[Any]) -> str:
    """``("body", "items", 0, "quantity")`` -> ``items[0].quantity``."""
    out = ""
    for part in loc:
        if part in ("body", "query", "path", "header"):
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def domain_problem(exc: DomainError, instance: str) -> Problem:
    headers: dict[str, str] = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after_s)
    elif exc.status == 503:
        headers["Retry-After"] = "2"
    detail = f"{exc.field}: {exc.detail}" if exc.field and exc.status == 422 else exc.detail
    return Problem(exc.status, _domain_body(exc.status, exc.code, detail, exc.title, instance,
                                            exc.field), headers)


@functools.lru_cache(maxsize=256)
def _domain_body(status: int, code: str, detail: str, title: str | None, instance: str,
                 field: str | None) -> bytes:
    """A sold-out rush answers the same few problems thousands of times a second: each
    distinct one is rendered once (bounded: instance paths are at most 8 KiB)."""
    return render(status, code, detail, title=title, instance=instance, field=field)


async def _domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return domain_problem(exc, request.url.path).response()


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": field_path(e.get("loc", ())), "message": e.get("msg", "")}
              for e in exc.errors()]
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    return problem(422, "invalid-input", f"{first['field']}: {first['message']}",
                   instance=request.url.path, field=first["field"], errors=errors)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
    return problem(exc.status_code, code, detail, instance=request.url.path,
                   headers=getattr(exc, "headers", None))


def dependency_problem(exc: Exception, instance: str) -> Problem | None:
    """503 naming the failed dependency, or None when ``exc`` is not a dependency failure."""
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        log.warning("redis unavailable: %s", exc)
        return Problem(503, render(503, "dependency-unavailable",
                                   "the inventory store (redis) is unavailable",
                                   instance=instance, dependency="redis"), {"Retry-After": "2"})
    if isinstance(exc, DBAPIError):
        log.warning("ledger unavailable: %s", exc)
        return Problem(503, render(503, "dependency-unavailable",
                                   "the ledger (sql) is unavailable", instance=instance,
                                   dependency="sql"), {"Retry-After": "2"})
    return None


async def _dependency_down(request: Request, exc: Exception) -> Response:
    answer = dependency_problem(exc, request.url.path)
    assert answer is not None
    return answer.response()


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RedisConnectionError, _dependency_down)
    app.add_exception_handler(RedisTimeoutError, _dependency_down)
    app.add_exception_handler(DBAPIError, _dependency_down)
    # Anything else: Starlette's error middleware answers the bare 500, then re-raises (the
    # guard outside it and the server log the exception).
    app.add_exception_handler(Exception, _internal)


async def _internal(request: Request, exc: Exception) -> Response:
    _, body = internal_problem(request.url.path)
    return Response(body, status_code=500, media_type=PROBLEM)
