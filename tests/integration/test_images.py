"""Event images through the real API into a real Azurite (the Azure Storage emulator):
upload, resize to three widths, serve with a year's cache, show on the event; bad uploads
(not an image, too large, wrong type claimed) are a clear 4xx and change nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from shared.local.azurite import Azurite
from shared.runtime import Runtime
from shared.settings import Settings
from tests.support import Live, make_buyer, make_event


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Azurite.installed():
        pytest.fail("tools/azurite is not installed: `make test` installs it")
    server = Azurite(tmp_path_factory.mktemp("azurite"))
    yield server.start()
    server.stop()


@pytest.fixture
def settings(settings: Settings, azurite: str, tmp_path: Path) -> Settings:
    return settings.with_(image_connection=azurite, image_container=f"img{tmp_path.name[-8:]}"
                          .lower().replace("_", ""), image_max_bytes=200_000)


def picture(kind: str = "PNG", size: tuple[int, int] = (1600, 900)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA" if kind == "PNG" else "RGB", size, (200, 40, 90)).save(out, kind)
    return out.getvalue()


async def test_upload_resizes_stores_in_blob_storage_and_serves_cached(rt: Runtime,
                                                                       live: Live) -> None:
    event = await make_event(rt, {"GA": 10})
    admin, _ = await make_buyer(rt, role="admin")
    async with live.client(admin) as a:
        r = await a.post(f"/api/admin/events/{event.id}/image", content=picture(),
                         headers={"content-type": "image/png"})
        assert r.status_code == 200, r.text
        url = r.json()["image_url"]
        assert url.startswith(f"/api/images/{event.id}/") and url.endswith("-640.jpg")
        shown = (await a.get(f"/api/events/{event.id}", headers={"cache-control": "no-cache"}))
        assert shown.json()["image_url"] == url
        for width in (320, 640, 1280):
            img = await a.get(url.replace("-640.jpg", f"-{width}.jpg"))
            assert img.status_code == 200
            assert img.headers["content-type"] == "image/jpeg"
            assert img.headers["cache-control"] == "public, max-age=31536000, immutable"
            with Image.open(io.BytesIO(img.content)) as decoded:
                assert decoded.format == "JPEG" and decoded.width == width
        small = await a.post(f"/api/admin/events/{event.id}/image",
                             content=picture("JPEG", (200, 100)),
                             headers={"content-type": "image/jpeg"})
        with Image.open(io.BytesIO((await a.get(small.json()["image_url"])).content)) as d:
            assert d.width == 200  # never upscaled
        missing = await a.get(f"/api/images/{event.id}/0000000000000000-640.jpg")
        assert missing.status_code == 404
        audit = (await a.get(f"/api/admin/events/{event.id}/audit")).json()["items"]
        assert any("image_url" in e["detail"] for e in audit)


async def test_bad_uploads_are_clear_4xx_and_change_nothing(rt: Runtime, live: Live) -> None:
    event = await make_event(rt, {"GA": 10})
    admin, _ = await make_buyer(rt, role="admin")
    buyer, _ = await make_buyer(rt)
    async with live.client(admin) as a:
        cases = [
            (b"this is not an image", "image/png", 422, "image"),
            (picture("PNG"), "image/jpeg", 422, "content-type"),
            (picture("PNG"), "application/pdf", 415, "content-type"),
            (b"", "image/png", 422, "image"),
        ]
        for body, ctype, status, field in cases:
            r = await a.post(f"/api/admin/events/{event.id}/image", content=body,
                             headers={"content-type": ctype})
            assert (r.status_code, r.json().get("field")) == (status, field), (ctype, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
        huge = Image.effect_noise((800, 800), 100)
        out = io.BytesIO()
        huge.save(out, "PNG")
        assert len(out.getvalue()) > 200_000
        big = await a.post(f"/api/admin/events/{event.id}/image", content=out.getvalue(),
                           headers={"content-type": "image/png"})
        assert big.status_code == 413
        assert big.json()["type"] == "/problems/body-too-large"
        after = await a.get(f"/api/events/{event.id}", headers={"cache-control": "no-cache"})
        assert after.json()["image_url"] == ""
    async with live.client(buyer) as b:
        refused = await b.post(f"/api/admin/events/{event.id}/image", content=picture(),
                               headers={"content-type": "image/png"})
        assert refused.status_code == 403
