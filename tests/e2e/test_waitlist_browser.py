"""The waiting list in a real browser (Chromium, 375 px, axe-core): a buyer finds the event
sold out, joins the waiting list from the event page with the keyboard, sees their place
(also after a reload), gets the offer on the page when the tickets come back, and buys; and
with two buyers in their own browsers, an expired hold is offered to the first in line and
a declined offer passes to the next, who buys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ARTIFACTS, Host, audit, new_page, start_host, stop_host
from tests.e2e.host_invariant import assert_host_invariant
from tests.e2e.test_browser import SHORT_HOLD_SECONDS, create_event, log_in
from tests.support import WAIT_SECONDS

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


@pytest.fixture(scope="module")
def short_hold_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Host, Path]]:
    # The holder's hold must outlive the two joins below (API calls of milliseconds) on a
    # busy machine; the offers keep the default length, so nothing races a person's clicks.
    data = tmp_path_factory.mktemp("waitlist-short")
    h = start_host(data, HOLD_SECONDS=str(SHORT_HOLD_SECONDS))
    yield h, data
    stop_host(h)


def test_an_expired_hold_goes_to_the_first_in_line_and_a_declined_offer_to_the_next(
        browser: Browser, short_hold_host: tuple[Host, Path]) -> None:
    """Two buyers wait in their own browsers; the holder never pays, so the hold expires and
    the first in line (Bea) is offered the ticket, on her page; she says "No thanks", and the
    offer passes to the next (Cy), who buys it."""
    host, data = short_hold_host
    event = create_event(host, 1, "Waitlist Passing Night")
    holder = host.token(*host.buyer("holder2"))
    bea, cy = host.buyer("bea"), host.buyer("cy")
    with host.api() as c:
        types = c.get(f"/api/events/{event['id']}").json()["ticket_types"]
        c.post(f"/api/events/{event['id']}/holds", headers={"authorization": f"Bearer {holder}"},
               json={"items": [{"ticket_type_id": types[0]["id"], "quantity": 1}]}
               ).raise_for_status()
        for who in (bea, cy):  # in this order: Bea first in line, Cy second
            c.post(f"/api/events/{event['id']}/waitlist",
                   headers={"authorization": f"Bearer {host.token(*who)}"},
                   json={"ticket_type_id": types[0]["id"], "quantity": 1}).raise_for_status()
    bea_page, cy_page = new_page(browser), new_page(browser)
    log_in(bea_page, host, *bea, f"/events/{event['id']}")
    log_in(cy_page, host, *cy, f"/events/{event['id']}")
    # The hold's own length, then the default wait for the pages to notice.
    expires = (SHORT_HOLD_SECONDS + WAIT_SECONDS) * 1000
    expect(bea_page.get_by_text("Tickets are held for you until")).to_be_visible(timeout=expires)
    expect(cy_page.get_by_role("status").filter(has_text="in line for Standing")).to_have_text(
        "You are #1 in line for Standing (1 ticket).")
    audit(bea_page)
    bea_page.get_by_role("button", name="No thanks").click()
    expect(bea_page.get_by_text("You declined your waiting-list offer.")).to_be_visible()
    expect(cy_page.get_by_text("Tickets are held for you until")).to_be_visible()
    audit(cy_page)
    cy_page.get_by_role("link", name="Buy now").click()
    expect(cy_page.get_by_role("heading", name="Checkout")).to_be_visible()
    cy_page.get_by_role("button", name="Pay").click()
    expect(cy_page.get_by_role("heading", name="You're going!")).to_be_visible()
    with host.api() as c:
        states = [c.get(f"/api/events/{event['id']}/waitlist",
                        headers={"authorization": f"Bearer {host.token(*who)}"}
                        ).json()["entries"][0]["status"] for who in (bea, cy)]
    assert states == ["declined", "purchased"]
    assert_host_invariant(host, data, str(event["id"]))
    bea_page.context.close()
    cy_page.context.close()
