"""A buyer in a real browser (Chromium, 375 px wide) against the stack `make run` starts:
browse, hold, pay and see QR tickets; sold out; a declined card; an expired hold; the
organiser's form in venue time. axe-core checks every page the tests see (``audit``, and the
``page`` fixture on each test's last page): no serious or critical violation."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS, Host, audit, new_page, start_host, stop_host
from tests.support import WAIT_SECONDS

pytestmark = pytest.mark.e2e
SHORT_HOLD_SECONDS = 12


def log_in(page: Page, host: Host, email: str, password: str, next_path: str = "/") -> None:
    page.goto(f"{host.base_url}/login?next={next_path}")
    audit(page)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{host.base_url}{next_path}")


def create_event(host: Host, capacity: int, name: str,
                 status: str = "on_sale") -> dict[str, object]:
    admin = host.token("admin@example.com", "admin-password")
    with host.api() as c:
        r = c.post("/api/admin/events", headers={"authorization": f"Bearer {admin}"}, json={
            "name": name, "starts_at": "2027-05-01T19:00:00Z", "category": "music",
            "venue": {"name": "Browser Hall", "city": "Porto", "timezone": "Europe/Lisbon"},
            "status": status,
            "ticket_types": [{"name": "Standing", "price": 2500, "capacity": capacity}]})
        r.raise_for_status()
        return dict(r.json())


def test_browse_hold_pay_and_see_tickets_with_qr_codes(page: Page, host: Host) -> None:
    email, password = host.buyer("ana")
    page.goto(host.base_url)
    expect(page.get_by_role("heading", name="Upcoming events")).to_be_visible()
    expect(page.get_by_role("link", name="The Glass Quartet")).to_be_visible()
    audit(page)
    page.get_by_label("Search").fill("quartet")
    page.get_by_role("button", name="Find events").click()
    page.get_by_role("link", name="The Glass Quartet").click()
    expect(page.get_by_role("heading", name="The Glass Quartet: Late Beethoven")).to_be_visible()
    expect(page.get_by_text("120 left")).to_be_visible()
    audit(page)
    # Choose first, then log in: the choice survives the trip to the login page.
    page.get_by_label("More Stalls tickets").click()
    page.get_by_label("More Stalls tickets").click()
    page.get_by_label("More Balcony tickets").click()
    page.get_by_role("button", name="Log in to buy").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="The Glass Quartet: Late Beethoven")).to_be_visible()
    expect(page.get_by_label("Stalls quantity")).to_have_value("2")
    expect(page.get_by_label("Balcony quantity")).to_have_value("1")
    page.get_by_role("button", name="Hold tickets").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    expect(page.get_by_text("Tickets held for")).to_be_visible()
    audit(page)
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", name="You're going!")).to_be_visible()
    qr = page.get_by_role("img", name="QR code for ticket")
    expect(qr).to_have_count(3)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "confirmed-order-tickets.png"), full_page=True)
    audit(page)
    page.get_by_role("link", name="My orders").click()
    expect(page.get_by_text("confirmed")).to_be_visible()


def test_sold_out_while_choosing_is_explained(page: Page, host: Host) -> None:
    event = create_event(host, 1, "Tiny Room Gig")
    email, password = host.buyer("bo")
    log_in(page, host, email, password, f"/events/{event['id']}")
    expect(page.get_by_text("1 left")).to_be_visible()
    page.get_by_label("More Standing tickets").click()
    # Someone else takes the last ticket before this buyer clicks.
    rival_email, rival_password = host.buyer("rival")
    rival = host.token(rival_email, rival_password)
    tt = event["ticket_types"][0]["id"]  # type: ignore[index]
    with host.api() as c:
        c.post(f"/api/events/{event['id']}/holds", headers={"authorization": f"Bearer {rival}"},
               json={"items": [{"ticket_type_id": tt, "quantity": 1}]}).raise_for_status()
    page.get_by_role("button", name="Hold tickets").click()
    expect(page.get_by_role("alert")).to_contain_text("Sold out")
    expect(page.get_by_text("Sold out", exact=True)).to_be_visible()
    expect(page.get_by_label("Standing quantity")).to_have_value("0")
    audit(page)  # the sold-out row included


def test_declined_card_fails_the_order_and_says_what_next(page: Page, host: Host) -> None:
    email, password = host.buyer("cy")
    log_in(page, host, email, password)
    page.get_by_role("link", name="Midnight Comedy Club").click()
    page.get_by_label("More Seat tickets").click()
    page.get_by_role("button", name="Hold tickets").click()
    page.get_by_label("Declined card").check()
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", name="Order not completed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("declined")
    audit(page)
    page.get_by_role("button", name="Back to the event").click()
    expect(page.get_by_role("heading", name="Midnight Comedy Club")).to_be_visible()


@pytest.fixture(scope="module")
def short_hold_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    # Long enough for a busy machine to show the held page before the hold ends (at 4 s the
    # page could open on an expired hold); short enough not to stretch the test much.
    h = start_host(tmp_path_factory.mktemp("short"), HOLD_SECONDS=str(SHORT_HOLD_SECONDS))
    yield h
    stop_host(h)


def test_expired_hold_releases_the_tickets(page: Page, short_hold_host: Host) -> None:
    host = short_hold_host
    email, password = host.buyer("di")
    log_in(page, host, email, password)
    page.get_by_role("link", name="Midnight Comedy Club").click()
    expect(page.get_by_text("10 left")).to_be_visible()
    page.get_by_label("More Seat tickets").click()
    page.get_by_role("button", name="Hold tickets").click()
    expect(page.get_by_text("Tickets held for")).to_be_visible()
    # The hold's own length, then the default wait for the page to notice.
    expires = (SHORT_HOLD_SECONDS + WAIT_SECONDS) * 1000
    expect(page.get_by_role("heading", name="Hold expired")).to_be_visible(timeout=expires)
    audit(page)
    page.get_by_role("button", name="Back to the event").click()
    expect(page.get_by_text("10 left")).to_be_visible()


def test_organiser_creates_and_edits_an_event(page: Page, host: Host) -> None:
    log_in(page, host, "admin@example.com", "admin-password")
    page.get_by_role("link", name="New event").click()
    expect(page.get_by_role("heading", name="Create an event")).to_be_visible()
    audit(page)
    page.get_by_label("Name", exact=True).first.fill("Harbour Jazz")
    # 20:00 on the quay in Porto (summer time, UTC+1), whatever zone the organiser's browser is in.
    page.get_by_label("Starts at").fill("2027-07-10T20:00")
    page.get_by_label("Venue name").fill("Quay Stage")
    page.get_by_label("City", exact=True).fill("Porto")
    page.get_by_label("Time zone").select_option("Europe/Lisbon")
    page.get_by_label("Price (EUR)").fill("19.50")
    page.get_by_label("Capacity", exact=True).fill("80")
    page.get_by_role("button", name="Create event").click()
    expect(page.get_by_role("heading", name="Harbour Jazz")).to_be_visible()
    expect(page.get_by_text("80 left")).to_be_visible()
    expect(page.locator(".event-meta time")).to_have_text(re.compile(r"10 July 2027 at 20:00 \S+"))
    event_id = page.url.rsplit("/", 1)[-1]
    with host.api() as c:
        assert c.get(f"/api/events/{event_id}").json()["starts_at"] == "2027-07-10T19:00:00Z"
    page.get_by_role("link", name="Edit event").click()
    expect(page.get_by_role("heading", name="Edit event")).to_be_visible()
    name = page.get_by_label("Name", exact=True).first
    expect(name).to_have_value("Harbour Jazz")
    expect(page.get_by_label("Starts at")).to_have_value("2027-07-10T20:00")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Lisbon")
    audit(page)
    name.fill("Harbour Jazz Night")
    page.get_by_label("Price (EUR)").fill("22.00")
    page.get_by_label("Capacity", exact=True).fill("120")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="Harbour Jazz Night")).to_be_visible()
    expect(page.get_by_text("€22.00")).to_be_visible()
    expect(page.get_by_text("120 left")).to_be_visible()


def test_draft_and_cancelled_events_offer_nothing_to_buy(page: Page, host: Host) -> None:
    draft = create_event(host, 5, "Unannounced Tour", status="draft")
    page.goto(f"{host.base_url}/events/{draft['id']}")
    expect(page.get_by_role("heading", name="Unannounced Tour")).to_be_visible()
    expect(page.get_by_text("This event is not on sale yet.")).to_be_visible()
    expect(page.get_by_text("€25.00")).to_be_visible()
    for control in ("Standing quantity", "More Standing tickets", "Promo code (optional)"):
        expect(page.get_by_label(control)).to_have_count(0)
    expect(page.get_by_role("button", name="Log in to buy")).to_have_count(0)
    audit(page)
    cancelled = create_event(host, 5, "Called Off")
    admin = host.token("admin@example.com", "admin-password")
    with host.api() as c:
        c.post(f"/api/admin/events/{cancelled['id']}/cancel",
               headers={"authorization": f"Bearer {admin}"}).raise_for_status()
    page.goto(f"{host.base_url}/events/{cancelled['id']}")
    expect(page.get_by_text("This event has been cancelled.")).to_be_visible()
    expect(page.get_by_label("Standing quantity")).to_have_count(0)
    expect(page.get_by_label("Promo code (optional)")).to_have_count(0)
    audit(page)


def test_a_promo_code_problem_is_shown_at_the_promo_field(page: Page, host: Host) -> None:
    event = create_event(host, 5, "Promo Night")
    email, password = host.buyer("gus")
    log_in(page, host, email, password, f"/events/{event['id']}")
    page.get_by_label("More Standing tickets").click()
    promo = page.get_by_label("Promo code (optional)")
    promo.fill("NOSUCHCODE")
    page.get_by_role("button", name="Hold tickets").click()
    expect(page.locator("#promo-err")).to_be_visible()
    expect(page.locator("#promo-err")).not_to_contain_text("promo_code")
    expect(promo).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_have_count(0)
    audit(page)


def test_register_states_the_servers_password_rules_and_errors_once(page: Page,
                                                                     host: Host) -> None:
    with host.api() as c:
        policy = c.get("/api/auth/password-policy").json()
    page.goto(f"{host.base_url}/register")
    rules = page.get_by_text(f"At least {policy['min_length']} characters")
    expect(rules).to_be_visible()
    audit(page)
    page.get_by_label("Your name").fill("Eve")
    page.get_by_label("Email").fill(f"eve-{time.time_ns()}@example.com")
    password = page.get_by_label("Password")
    # The browser's own minlength check would stop the form first; the server's rule is
    # what this checks, so the attribute goes (as a script-less or older client would).
    password.evaluate("el => el.removeAttribute('minlength')")
    password.fill("short-pw1")
    page.get_by_role("button", name="Create account").click()
    error = page.locator(".field-error")
    expect(error).to_have_text(f"Password must have at least {policy['min_length']} characters")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_text("password:", exact=False)).to_have_count(0)
    expect(password).to_have_attribute("aria-invalid", "true")
    audit(page)


def test_a_new_york_browser_sees_the_berlin_concert_in_berlin_time(browser: Browser,
                                                                    host: Host) -> None:
    page = new_page(browser, width=1280, height=900, timezone_id="America/New_York")
    try:
        page.goto(host.base_url)
        card = page.get_by_role("link", name="The Glass Quartet")
        # Demo events start at 19:30 at the venue: CET or CEST, never New York's 13:30.
        expect(card).to_contain_text(re.compile(r"\d{4}, 19:30 (CET|CEST)"))
        card.click()
        expect(page.locator(".event-meta time")).to_have_text(
            re.compile(r"^\w+, \d+ \w+ \d{4} at 19:30 (CET|CEST)$"))
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "event-page-new-york-viewer-desktop.png"),
                        full_page=True)
        audit(page)
    finally:
        page.context.close()
