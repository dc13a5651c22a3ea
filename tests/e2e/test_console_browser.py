"""The organiser console in a real browser against the stack `make run` starts (Azurite
included): create a draft at an existing venue, upload its image, publish it, a buyer buys,
the sale shows on the dashboard, the organiser refunds the order, the tickets are back on
sale (and refunded for the buyer), and cancelling the event refunds every order."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Host, new_page
from tests.e2e.test_browser import log_in

pytestmark = pytest.mark.e2e


def create_draft_and_publish(page: Page, host: Host) -> str:
    """Through the organiser's form and My events; returns the event id."""
    log_in(page, host, "admin@example.com", "admin-password")
    page.get_by_role("link", name="New event").click()
    expect(page.get_by_role("heading", name="Create an event")).to_be_visible()
    page.get_by_label("Name", exact=True).first.fill("Console Night")
    page.get_by_label("Starts at").fill("2027-09-10T20:00")
    page.get_by_label("Venue", exact=True).select_option(index=1)  # an existing venue
    expect(page.get_by_label("Venue name")).to_have_count(0)
    page.get_by_label("Name", exact=True).nth(1).fill("Standing")
    page.get_by_label("Price (EUR)").fill("30.00")
    page.get_by_label("Capacity", exact=True).fill("5")
    page.get_by_label("Save as a draft").check()
    page.get_by_role("button", name="Create event").click()
    expect(page.get_by_role("heading", name="Edit event")).to_be_visible()
    found = re.search(r"/admin/events/([^/]+)/edit", page.url)
    assert found is not None
    event_id = found.group(1)
    page.get_by_role("link", name="My events").first.click()
    row = page.get_by_role("row").filter(has_text="Console Night")
    expect(row).to_contain_text("draft")
    expect(row).to_contain_text("0 / 5")
    row.get_by_role("link", name=re.compile("^Edit")).click()
    png = io.BytesIO()
    Image.new("RGB", (1500, 800), (30, 120, 200)).save(png, "PNG")
    page.get_by_label("Event image").set_input_files(
        {"name": "poster.png", "mimeType": "image/png", "buffer": png.getvalue()})
    expect(page.get_by_text("Image saved.")).to_be_visible()
    page.get_by_role("button", name="Publish: put on sale").click()
    expect(page.get_by_role("button", name="Publish: put on sale")).to_have_count(0)
    return event_id


def test_draft_publish_buy_dashboard_refund_back_on_sale(page: Page, browser: Browser,
                                                         host: Host) -> None:
    page.on("dialog", lambda dialog: dialog.accept())  # the refund asks for confirmation
    event_id = create_draft_and_publish(page, host)
    buyer = new_page(browser)  # a second person: a context of its own (with axe-core)
    email, password = host.buyer("dee")
    log_in(buyer, host, email, password, f"/events/{event_id}")
    expect(buyer.get_by_text("5 left")).to_be_visible()
    shown = buyer.locator("img.event-image")
    expect(shown).to_have_attribute("src", re.compile(r"^/api/images/.+-640\.jpg$"))
    buyer.wait_for_function(  # the browser fetched and decoded it from the API
        "() => { const i = document.querySelector('img.event-image');"
        " return !!i && i.complete && i.naturalWidth > 0; }")
    buyer.get_by_label("More Standing tickets").click()
    buyer.get_by_label("More Standing tickets").click()
    buyer.get_by_role("button", name="Hold tickets").click()
    buyer.get_by_role("button", name="Pay").click()
    expect(buyer.get_by_role("heading", name="You're going!")).to_be_visible()

    page.goto(f"{host.base_url}/admin/events/{event_id}/dashboard")
    expect(page.get_by_test_id("total-sold")).to_have_text("2", timeout=20_000)
    expect(page.get_by_test_id("total-available")).to_have_text("3")
    expect(page.get_by_role("img", name=re.compile("Tickets sold per minute"))).to_be_visible()
    page.get_by_role("navigation", name="Event console").get_by_role("link",
                                                                      name="Orders").click()
    orders = page.get_by_role("row").filter(has_text=email)
    expect(orders).to_contain_text("confirmed")
    orders.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Order")).to_be_visible()
    page.get_by_role("button", name="Cancel and refund order").click()
    expect(page.get_by_role("status")).to_contain_text("back on sale")
    expect(page.get_by_text("Refunded: no longer valid")).to_have_count(2)

    page.goto(f"{host.base_url}/admin/events/{event_id}/dashboard")
    expect(page.get_by_test_id("total-sold")).to_have_text("0")
    expect(page.get_by_test_id("total-available")).to_have_text("5")
    buyer.goto(f"{host.base_url}/events/{event_id}")
    expect(buyer.get_by_text("5 left")).to_be_visible()
    buyer.get_by_role("link", name="My orders").click()
    expect(buyer.get_by_text("refunded", exact=True)).to_be_visible()
    page.get_by_role("navigation", name="Event console").get_by_role("link",
                                                                      name="Activity").click()
    expect(page.get_by_role("cell", name="order.refund")).to_be_visible()
    buyer.context.close()
    # Cancelling the event refunds every order in the background, with progress.
    page.get_by_role("navigation", name="Event console").get_by_role("link",
                                                                      name="Edit").click()
    page.get_by_role("button", name="Cancel the event and refund every order").click()
    expect(page.get_by_text("Every order is refunded (1 of 1)")).to_be_visible(timeout=20_000)


def test_promo_codes_are_created_edited_and_deactivated_in_the_console(page: Page,
                                                                       host: Host) -> None:
    admin = host.token("admin@example.com", "admin-password")
    with host.api() as c:
        r = c.post("/api/admin/events", headers={"authorization": f"Bearer {admin}"}, json={
            "name": "Promo Night", "starts_at": "2027-06-01T19:00:00Z",
            "venue": {"name": "Promo Hall", "city": "Faro"},
            "ticket_types": [{"name": "GA", "price": 2000, "capacity": 50}]})
        r.raise_for_status()
        event_id = r.json()["id"]
    log_in(page, host, "admin@example.com", "admin-password")
    page.goto(f"{host.base_url}/admin/events/{event_id}/promos")
    expect(page.get_by_text("No promo codes yet.")).to_be_visible()
    page.get_by_label("Code").fill("early10")
    page.get_by_label("Percent").fill("10")
    page.get_by_label("Maximum uses (0: no limit)").fill("25")
    page.get_by_role("button", name="Create promo code").click()
    row = page.get_by_role("row").filter(has_text="EARLY10")
    expect(row).to_contain_text("10% off")
    expect(row).to_contain_text("0 / 25")
    row.get_by_role("button", name="Edit EARLY10").click()
    page.get_by_label("Percent").fill("15")
    page.get_by_role("button", name="Save promo code").click()
    expect(row).to_contain_text("15% off")
    row.get_by_role("button", name="Deactivate EARLY10").click()
    expect(row).to_contain_text("inactive")
    buyer_email, buyer_password = host.buyer("pat")
    token = host.token(buyer_email, buyer_password)
    with host.api() as c:
        tt = c.get(f"/api/events/{event_id}").json()["ticket_types"][0]["id"]
        refused = c.post(f"/api/events/{event_id}/holds",
                         headers={"authorization": f"Bearer {token}"},
                         json={"items": [{"ticket_type_id": tt, "quantity": 1}],
                               "promo_code": "EARLY10"})
        assert refused.status_code == 422  # a deactivated code no longer applies
