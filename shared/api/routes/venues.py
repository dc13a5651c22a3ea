"""Venues as buyers and organisers read them (cached for an hour)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from shared.api.deps import RuntimeDep
from shared.api.schemas import VenueOut, VenuesOut

router = APIRouter(prefix="/api/venues", tags=["venues"])


@router.get("", response_model=VenuesOut)
async def list_venues(rt: RuntimeDep, limit: Annotated[int, Query(ge=1, le=100)] = 50,
                      cursor: Annotated[str | None, Query(max_length=2000)] = None) -> VenuesOut:
    venues, next_cursor = await rt.catalog_store.list_venues(cursor, limit)
    return VenuesOut(items=[VenueOut.of(v) for v in venues], next_cursor=next_cursor)


@router.get("/{venue_id}", response_model=VenueOut)
async def get_venue(venue_id: str, rt: RuntimeDep, response: Response) -> VenueOut:
    response.headers["Cache-Control"] = "public, max-age=300"
    return VenueOut.of(await rt.catalog.get_venue(venue_id))
