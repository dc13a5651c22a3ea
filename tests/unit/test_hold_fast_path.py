"""The hold fast path answers the same bytes as the FastAPI route would."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from shared.api.hold_fast_path import HOLDS_PATH, hold_json
from shared.api.schemas import HoldOut
from shared.models import Hold, HoldStatus, LineItem


def test_hold_json_is_the_routes_rendering_of_hold_out() -> None:
    for promo, order in ((None, None), ("SPRING-É", "E.o1")):
        hold = Hold(id="E.h1", event_id="E", user_id="u", status=HoldStatus.HELD,
                    items=(LineItem("GA", 2, 1500), LineItem("VIP", 1, 9000)), total=12000,
                    currency="EUR", created_at=1_700_000_000_000,
                    expires_at=1_700_000_600_000, order_id=order, promo_code=promo,
                    discount=0 if promo is None else 100)
        assert hold_json(hold) == JSONResponse(HoldOut.of(hold).model_dump()).body


def test_only_the_hold_collection_path_matches() -> None:
    assert HOLDS_PATH.match("/api/events/abc/holds")
    for path in ("/api/events/abc/holds/", "/api/events/a/b/holds", "/api/holds/x"):
        assert not HOLDS_PATH.match(path)
