"""Event images: an organiser uploads one; it is checked (really an image, of the type
claimed, within the size and pixel limits), resized to a few widths (JPEG, never upscaled),
stored under content-addressed names and set as the event's ``image_url``."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
from typing import Protocol

from PIL import Image, UnidentifiedImageError

from shared.errors import DependencyUnavailable, DomainError, InvalidInput
from shared.models import Event, Principal
from shared.services.catalog import CatalogService, EventEdit

WIDTHS = (320, 640, 1280)
SHOWN_WIDTH = 640  # image_url points at this one; the others are srcset candidates
TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PIXELS = 40_000_000  # refuses decompression bombs before decoding them
NAME = re.compile(r"^[0-9a-f]{16}-(320|640|1280)\.jpg$")


class UnsupportedImage(DomainError):
    status = 415
    code = "unsupported-media-type"
    title = "Unsupported media type"


class ImageStore(Protocol):
    @property
    def configured(self) -> bool: ...

    async def put(self, name: str, data: bytes, content_type: str) -> None: ...

    async def get(self, name: str) -> tuple[bytes, str] | None: ...


def resize(data: bytes, claimed: str) -> dict[int, bytes]:
    """JPEG renditions per width; raises a 4xx DomainError for a bad upload."""
    if claimed not in TYPES.values():
        raise UnsupportedImage(f"send the image as one of {', '.join(sorted(TYPES.values()))}",
                               field="content-type")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format or ""
            if probe.width * probe.height > MAX_PIXELS:
                raise InvalidInput(f"at most {MAX_PIXELS:,} pixels", field="image")
            probe.verify()
        image: Image.Image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InvalidInput("the file is not a readable image", field="image") from exc
    if TYPES.get(kind) != claimed:
        raise InvalidInput(f"the file is {TYPES.get(kind, kind or 'not an image')}, not "
                           f"{claimed}", field="content-type")
    if image.mode not in ("RGB", "L"):  # flatten transparency onto white for JPEG
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, (255, 255, 255))
        image.paste(rgba, mask=rgba.getchannel("A"))
    out: dict[int, bytes] = {}
    for width in WIDTHS:
        copy = image.copy()
        if copy.width > width:
            copy = copy.resize((width, max(1, round(copy.height * width / copy.width))),
                               Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        copy.convert("RGB").save(buf, "JPEG", quality=82, optimize=True, progressive=True)
        out[width] = buf.getvalue()
    return out


class ImageService:
    def __init__(self, store: ImageStore, catalog: CatalogService) -> None:
        self._store = store
        self._catalog = catalog

    async def upload(self, event_id: str, data: bytes, claimed: str,
                     actor: Principal) -> Event:
        await self._catalog.get_event(event_id)  # 404 before any work
        if not data:
            raise InvalidInput("send the image file as the request body", field="image")
        if not self._store.configured:
            raise DependencyUnavailable("image storage is not configured")
        renditions = await asyncio.to_thread(resize, data, claimed)
        digest = hashlib.sha256(data).hexdigest()[:16]
        try:
            await asyncio.gather(*(self._store.put(f"{event_id}/{digest}-{w}.jpg", body,
                                                   "image/jpeg")
                                   for w, body in renditions.items()))
        except DomainError:
            raise
        except Exception as exc:
            raise DependencyUnavailable("image storage is unavailable; try again") from exc
        return await self._catalog.update_event(event_id, EventEdit(
            image_url=f"/api/images/{event_id}/{digest}-{SHOWN_WIDTH}.jpg"), actor)

    async def get(self, event_id: str, name: str) -> tuple[bytes, str] | None:
        if not NAME.match(name) or not self._store.configured:
            return None
        try:
            return await self._store.get(f"{event_id}/{name}")
        except Exception as exc:
            raise DependencyUnavailable("image storage is unavailable; try again") from exc
