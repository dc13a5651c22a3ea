"""The web app as the local host serves it, over real HTTP: a file is served only if it
exists under the dist directory; every other non-API path is an app route and gets
index.html (hold and order ids contain a dot, so the shape of a path cannot decide); unknown
API paths keep their problem+json 404; nothing outside the dist directory is reachable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.runtime import Runtime
from shared.settings import Settings
from tests.support import Live

INDEX = "<!doctype html><title>Leap</title><div id=root></div>"


@pytest.fixture
async def spa(settings: Settings, rt: Runtime, tmp_path: Path) -> AsyncIterator[Live]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "app-1a2b3c.js").write_text("console.log('app')")
    (dist / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside the dist directory")
    stack = Live(settings, static_dir=dist).start()
    yield stack
    stack.stop()


@pytest.mark.parametrize("route", [
    "/", "/events/0f6c2a9e8d4b4c7e9a1b2c3d4e5f6a7b",
    "/holds/0f6c2a9e8d4b4c7e9a1b2c3d4e5f6a7b.9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
    "/orders/0f6c2a9e8d4b4c7e9a1b2c3d4e5f6a7b.0123456789abcdef0123456789abcdef",
    "/me/orders", "/login?next=/holds/a.b", "/register", "/admin/events/new",
    "/admin/events/0f6c2a9e8d4b4c7e9a1b2c3d4e5f6a7b/edit", "/no/such/page.html",
])
async def test_every_app_route_reloads_to_the_app(spa: Live, route: str) -> None:
    async with spa.client() as c:
        r = await c.get(route)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.text == INDEX
    assert r.headers["cache-control"] == "no-cache"


async def test_existing_files_are_served_as_themselves(spa: Live) -> None:
    async with spa.client() as c:
        asset = await c.get("/assets/app-1a2b3c.js")
        icon = await c.get("/favicon.svg")
    assert asset.status_code == 200 and asset.text == "console.log('app')"
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in asset.headers["content-type"]
    assert icon.status_code == 200 and icon.text == "<svg/>"


async def test_a_missing_asset_is_404_not_the_page(spa: Live) -> None:
    async with spa.client() as c:
        r = await c.get("/assets/app-old.js")
    assert r.status_code == 404
    assert r.text != INDEX


async def test_unknown_api_paths_keep_their_problem(spa: Live) -> None:
    async with spa.client() as c:
        for path in ("/api/no-such-thing", "/api/holds/a.b/nothing", "/api"):
            r = await c.get(path)
            assert r.status_code == 404, path
            assert r.headers["content-type"] == "application/problem+json", path
            assert r.json()["type"] == "/problems/not-found"


async def test_paths_cannot_leave_the_dist_directory(spa: Live) -> None:
    async with spa.client() as c:
        for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
            r = await c.get(path)
            assert "outside the dist directory" not in r.text, path
