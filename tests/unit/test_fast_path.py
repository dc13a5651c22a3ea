"""The fast path answers the same bytes as the FastAPI routes would, for the paths it owns."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from shared.api.fast_path import CHECKOUT_PATH, HOLDS_PATH, ORDER_PATH, WAIT_QUERY, hold_json
from shared.api.schemas import HoldOut, OrderEventOut, OrderOut, TicketOut
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


def test_order_json_is_the_routes_rendering_of_order_out() -> None:
    """The fast path answers ``model_dump_json``; the route answers FastAPI's JSONResponse."""
    order = OrderOut(order_id="E.o1", event_id="E", hold_id="E.h1", status="confirmed",
                     reason=None, tickets=[TicketOut(
                         id="E.t1", ticket_type_id="GA", code="c0de", reference="R-1",
                         state="valid", checked_in_at=None, seat_id="Parterre A-1",
                         status="valid")], total=1500, currency="EUR",
                     created_at="2026-11-25T10:00:00.000Z",
                     event=OrderEventOut(id="E", name="Fête 🎉",
                                         starts_at="2026-12-01T20:00:00Z",
                                         venue="Salle Pleyel", city="Paris",
                                         address="252 Rue du Faubourg Saint-Honoré",
                                         timezone="Europe/Paris", image_url=""),
                     refunded=0)
    assert order.model_dump_json().encode() == JSONResponse(order.model_dump(mode="json")).body


def test_only_the_checkout_and_order_paths_match() -> None:
    assert CHECKOUT_PATH.match("/api/holds/E.h1/checkout")
    assert ORDER_PATH.match("/api/orders/E.o1")
    for path in ("/api/holds/E.h1/checkout/", "/api/holds/E.h1"):
        assert not CHECKOUT_PATH.match(path)
    for path in ("/api/orders/E.o1/tickets.pdf", "/api/orders/E.o1/calendar.ics",
                 "/api/me/orders", "/api/orders/"):
        assert not ORDER_PATH.match(path)


def test_only_a_plain_wait_is_answered_here() -> None:
    """Anything else in the query goes to the app, which names what is wrong."""
    for query in (b"wait=10", b"wait=0", b"wait=2.5", b"wait=25"):
        assert WAIT_QUERY.match(query)
    for query in (b"wait=-1", b"wait=abc", b"wait=10&x=1", b"x=1", b"wait=1e1", b"wait="):
        assert not WAIT_QUERY.match(query)
