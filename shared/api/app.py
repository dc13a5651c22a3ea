"""The FastAPI application: routers, problem+json errors, and (locally) the static SPA."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from shared.api import problems
from shared.api.routes import admin, auth, events, health, holds, orders
from shared.runtime import Runtime


class SpaFiles(StaticFiles):
    """Static files with the SPA's navigation fallback (unknown non-API paths get index.html)
    and the caching of static/staticwebapp.config.json: hashed assets for a year, the page
    itself revalidated every time."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or path.startswith("api/") or "." in path.rsplit("/", 1)[-1]:
                raise
            response = FileResponse(Path(str(self.directory)) / "index.html")
        immutable = path.startswith("assets/") and response.status_code == 200
        response.headers["Cache-Control"] = (
            "public, max-age=31536000, immutable" if immutable else "no-cache")
        return response


def create_app(runtime: Runtime | Callable[[], Runtime],
               static_dir: Path | None = None) -> FastAPI:
    """The API. ``runtime`` may be a provider, so the function app can import without
    configuration and build its runtime on the first request."""
    app = FastAPI(
        title="Leap Ticketing API",
        version="1.0.0",
        description="Ticket holds, checkout and orders for high-traffic on-sales.",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.runtime = runtime if callable(runtime) else (lambda: runtime)
    problems.install(app)
    for module in (health, auth, events, holds, orders, admin):
        app.include_router(module.router)
    if static_dir is not None and (static_dir / "index.html").is_file():
        app.mount("/", SpaFiles(directory=static_dir, html=True), name="static")
    return app
