"""The waiting list in a real browser (Chromium, 375 px, axe-core): a buyer finds the event
sold out, joins the waiting list from the event page with the keyboard, sees their place
(also after a reload), gets the offer on the page when the tickets come back, and buys."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, Host, audit
from tests.e2e.test_browser import create_event, log_in

pytestmark = pytest.mark.e2e


def test_a_buyer_joins_the_waiting_list_gets_the_offer_and_buys(page: Page, host: Host) -> None:
    event = create_event(host, 1, "Waitlist Browser Night")
    holder = host.token(*host.buyer("holder"))
    with host.api() as c:
        types = c.get(f"/api/events/{event['id']}").json()["ticket_types"]
        hold = c.post(f"/api/events/{event['id']}/holds",
                      headers={"authorization": f"Bearer {holder}"},
                      json={"items": [{"ticket_type_id": types[0]["id"], "quantity": 1}]})
        hold.raise_for_status()
    email, password = host.buyer("waiter")
    log_in(page, host, email, password, f"/events/{event['id']}")
    expect(page.get_by_text("Standing is sold out")).to_be_visible()
    audit(page)
    join = page.get_by_role("button", name="Join the waiting list")
    join.focus()
    page.keyboard.press("Enter")
    place = page.get_by_role("status").filter(has_text="in line for Standing")
    expect(place).to_have_text("You are #1 in line for Standing (1 ticket).")
    audit(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "waitlist-place.png"), full_page=True)
    page.reload()  # the place is kept
    expect(place).to_have_text("You are #1 in line for Standing (1 ticket).")
    # The holder gives the ticket back: it is offered to our buyer, and the page shows it.
    with host.api() as c:
        c.delete(f"/api/holds/{hold.json()['hold_id']}",
                 headers={"authorization": f"Bearer {holder}"}).raise_for_status()
    expect(page.get_by_text("Tickets are held for you until")).to_be_visible()
    audit(page)
    page.screenshot(path=str(ARTIFACTS / "waitlist-offer.png"), full_page=True)
    page.get_by_role("link", name="Buy now").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", name="You're going!")).to_be_visible()
    audit(page)
    with host.api() as c:
        mine = c.get(f"/api/events/{event['id']}/waitlist",
                     headers={"authorization": f"Bearer {host.token(email, password)}"})
    assert [e["status"] for e in mine.json()["entries"]] == ["purchased"]
