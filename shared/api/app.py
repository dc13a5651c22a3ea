"""The FastAPI application: routers, problem+json errors (documented in OpenAPI), the guard
(body limits, security headers), CORS for the configured SPA origins, the session
revocation and order-notice listeners, and (locally) the static SPA."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse
from fastapi.telemetry import TelemetryConfig
from fastapi.telemetry._asgi import _legacy_otel  # FastAPI's own check, as in its __call__
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from shared import telemetry
from shared.api import problems
from shared.api.degraded_notice import HEADER as DEGRADED_HEADER
from shared.api.degraded_notice import DegradedNotice
from shared.api.fast_path import FastPath
from shared.api.guard import Guard
from shared.api.routes import (
    admin,
    auth,
    console,
    door,
    events,
    health,
    holds,
    images,
    orders,
    queue,
    venues,
    waitlist,
)
from shared.api.schemas import ProblemOut
from shared.runtime import Runtime
from shared.settings import Settings

_NO_HTTP_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


class SpaFiles(StaticFiles):
    """Static files with the SPA's navigation fallback and the caching of
    static/staticwebapp.config.json: hashed assets for a year, the page itself revalidated
    every time.

    What exists decides, never the shape of the path: a file under the dist directory
    (``lookup_path`` joins safely, so ``..`` cannot leave it) is served; any other path is
    one of the app's routes and gets index.html, so reloading ``/holds/<event>.<hex>`` works.
    Two exceptions keep their 404: ``/api/...`` (the API's problem+json) and ``/assets/...``
    (hashed build output: a stale script must fail as a missing script, not parse HTML)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            top = path.split("/", 1)[0]
            if exc.status_code != 404 or top in ("api", "assets"):
                raise
            response = FileResponse(Path(str(self.directory)) / "index.html")
        immutable = path.startswith("assets/") and response.status_code == 200
        response.headers["Cache-Control"] = (
            "public, max-age=31536000, immutable" if immutable else "no-cache")
        return response


class LeapApp(FastAPI):
    """FastAPI with an edge in front of Starlette's own middleware stack: every request meets
    ``edge`` (the guard, then the fast path) first, and only what the fast path does not
    answer goes on, through the degraded-mode notice, to ``framework``, the FastAPI app
    proper (its error and exception middleware, CORS, the routers).

    Inside the stack, each of the on-sale's hot requests also went through Starlette's error
    middleware, FastAPI's telemetry and body-limit wrappers and one more ``send`` wrapper per
    message, for nothing the guard does not already do (a few per cent of an API worker's
    CPU per hold request, docs/architecture.md §8)."""

    edge: ASGIApp | None = None
    # FastAPI's HTTP span and metrics, when on, go around the edge, so the fast path's
    # requests are traced too (the app inside then sees them started and adds none of its own).
    traced = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.edge is None:
            await self.framework(scope, receive, send)
        elif self.traced and scope["type"] == "http" and "fastapi.telemetry" not in scope:
            if self.middleware_stack is None:
                self.middleware_stack = self.build_middleware_stack()
            scope["app"] = self
            await self._native_telemetry(app=self.edge, scope=scope, receive=receive,
                                         send=send, legacy_otel=_legacy_otel(self.middleware_stack))
        else:
            await self.edge(scope, receive, send)

    async def framework(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ProblemOut, "description": problems.TITLES.get(status, "Error")}
    for status in (400, 401, 403, 404, 409, 413, 414, 415, 422, 429, 431, 500, 503)
}


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """Error answers are documented as application/problem+json, which is what they are."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            for path in schema["paths"].values():
                for operation in path.values():
                    for status, answer in operation.get("responses", {}).items():
                        content = answer.get("content", {})
                        if status[0] in "45" and "application/json" in content:
                            answer["content"] = {
                                problems.PROBLEM: {"schema": {"$ref":
                                                              "#/components/schemas/ProblemOut"}}}
            schema["components"]["schemas"].pop("HTTPValidationError", None)
            schema["components"]["schemas"].pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    return build


def create_app(runtime: Runtime | Callable[[], Runtime], static_dir: Path | None = None,
               settings: Settings | None = None) -> LeapApp:
    """The API. ``runtime`` may be a provider, so the function app can import without
    configuration and build its runtime on the first request; then pass ``settings``."""
    provider = runtime if callable(runtime) else (lambda: runtime)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        rt = provider()
        listeners = [asyncio.create_task(rt.revocations.listen(rt.accounts.drop_cached)),
                     asyncio.create_task(rt.catalog_store.listen()),
                     asyncio.create_task(rt.order_notices.listen(rt.order_waits.notify))]
        try:
            yield
        finally:
            for task in listeners:
                task.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)

    if settings is None:
        settings = runtime.settings if isinstance(runtime, Runtime) else Settings()
    traced = telemetry.exporting(settings)
    app = LeapApp(
        title="Leap Ticketing API",
        version="1.0.0",
        description="Ticket holds, checkout and orders for high-traffic on-sales. Errors are "
                    "RFC 9457 problem details naming the offending `field`.",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
        responses=ERRORS,
        lifespan=lifespan,
        # FastAPI's HTTP spans and metrics only when something records them: unconfigured,
        # it asks the global providers on every request (os.environ lookups, ~3 % of a
        # worker in the on-sale profile, docs/architecture.md §8) to learn it has none.
        telemetry=None if traced else _NO_HTTP_TELEMETRY,
    )
    app.traced = traced
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    app.state.runtime = provider
    problems.install(app)
    for module in (health, auth, events, queue, venues, holds, orders, admin, door, console,
                   images, waitlist):
        app.include_router(module.router)
    if static_dir is not None and (static_dir / "index.html").is_file():
        app.mount("/", SpaFiles(directory=static_dir, html=True), name="static")
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Queue-Token"],
            expose_headers=["Location", "Retry-After", "Idempotent-Replayed",
                            DEGRADED_HEADER], max_age=600)
    # The fast path behind the guard's checks (body limits, content types), outside CORS (it
    # defers to the app for cross-origin requests when CORS is on); its answers carry the
    # security headers and the degraded-mode notice that the guard and the notice add to
    # the app's.
    app.edge = Guard(
        DegradedNotice(app.framework, breaker=lambda: provider().breaker),
        max_body_bytes=settings.max_body_bytes, max_upload_bytes=settings.image_max_bytes,
        fast=FastPath(provider, cors=bool(settings.cors_origins)))
    return app
