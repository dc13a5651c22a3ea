"""Every route of the web app survives a reload (F5) and opening in a new tab: the server
answers each with the app, which finds its data again. Hold and order ids contain a dot
(``<event id>.<hex>``), which the server once took for a file name. Each route is checked
with axe-core and photographed at phone (375 px) and desktop (1280 px) widths."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, Host, audit
from tests.e2e.test_browser import create_event, log_in

pytestmark = pytest.mark.e2e


def _order(host: Host, token: str, event: dict[str, object]) -> tuple[str, str]:
    """A held hold and a confirmed order of the buyer, made over the API."""
    tt = event["ticket_types"][0]["id"]  # type: ignore[index]
    auth = {"authorization": f"Bearer {token}"}
    with host.api() as c:
        def hold() -> str:
            r = c.post(f"/api/events/{event['id']}/holds", headers=auth,
                       json={"items": [{"ticket_type_id": tt, "quantity": 1}]})
            r.raise_for_status()
            return str(r.json()["hold_id"])

        held, paid = hold(), hold()
        r = c.post(f"/api/holds/{paid}/checkout", headers=auth,
                   json={"payment_token": "tok_visa"})
        r.raise_for_status()
        order_id = str(r.json()["order_id"])
        deadline = time.monotonic() + 30
        # Payment is asynchronous: wait for the order to be final (a condition, not a time).
        while c.get(f"/api/orders/{order_id}", headers=auth).json()["status"] == "pending":
            assert time.monotonic() < deadline, "the order did not become final"
            time.sleep(0.1)
    return held, order_id


def _visit(page: Page, host: Host, path: str, heading: str, shot: str) -> None:
    page.goto(f"{host.base_url}{path}")
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    assert page.url == f"{host.base_url}{path}"
    audit(page)
    folder = ARTIFACTS / "routes"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{shot}-375.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(folder / f"{shot}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 812})


def test_every_route_reloads(page: Page, host: Host) -> None:
    event = create_event(host, 10, "Reload Recital")
    email, password = host.buyer("fay")
    held, order_id = _order(host, host.token(email, password), event)
    for path, heading, shot in [
        ("/", "Upcoming events", "events"),
        (f"/events/{event['id']}", "Reload Recital", "event"),
        ("/login", "Log in", "login"),
        ("/register", "Create an account", "register"),
        ("/no/such/page", "Page not found", "not-found"),
    ]:
        _visit(page, host, path, heading, shot)
    log_in(page, host, email, password)
    for path, heading, shot in [
        (f"/holds/{held}", "Checkout", "hold"),
        (f"/orders/{order_id}", "You're going!", "order"),
        ("/me/orders", "My orders", "my-orders"),
        ("/door", "Door check-in", "door"),
    ]:
        _visit(page, host, path, heading, shot)
    page.evaluate("() => localStorage.clear()")
    log_in(page, host, "admin@example.com", "admin-password")
    for path, heading, shot in [
        ("/admin/events/new", "Create an event", "admin-new"),
        (f"/admin/events/{event['id']}/edit", "Edit event", "admin-edit"),
        (f"/admin/events/{event['id']}/staff", "Door staff: Reload Recital", "admin-staff"),
        (f"/door/{event['id']}", "Check in: Reload Recital", "check-in"),
    ]:
        _visit(page, host, path, heading, shot)
