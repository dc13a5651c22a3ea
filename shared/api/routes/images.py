"""Event images: the organiser uploads one (raw body, its type in Content-Type), and
anyone reads the stored renditions, cached for a year (names are content-addressed)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from shared.api.deps import AdminDep, RuntimeDep
from shared.api.schemas import EventOut
from shared.errors import NotFound

router = APIRouter(prefix="/api", tags=["images"])


@router.post("/admin/events/{event_id}/image", response_model=EventOut,
             openapi_extra={"requestBody": {"required": True, "content": {
                 t: {"schema": {"type": "string", "format": "binary"}}
                 for t in ("image/jpeg", "image/png", "image/webp")}}})
async def upload_image(event_id: str, request: Request, rt: RuntimeDep,
                       admin: AdminDep) -> EventOut:
    """Store the image in 320, 640 and 1280 px wide JPEGs and make it the event's image."""
    claimed = request.headers.get("content-type", "").split(";")[0].strip().lower()
    event = await rt.images.upload(event_id, await request.body(), claimed, admin)
    return EventOut.of(event)


@router.get("/images/{event_id}/{name}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}})
async def image(event_id: str, name: str, rt: RuntimeDep) -> Response:
    found = await rt.images.get(event_id, name)
    if found is None:
        raise NotFound("image not found")
    data, content_type = found
    return Response(data, media_type=content_type,
                    headers={"Cache-Control": "public, max-age=31536000, immutable"})
