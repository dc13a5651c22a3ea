"""Door check-in in a real browser: an organiser adds door staff on the event's page; the
staff member opens the check-in page and types ticket codes (the camera's fallback): a valid
ticket turns the screen green once, a second scan and a forged code turn it red."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Host, audit
from tests.e2e.test_browser import create_event, log_in

pytestmark = pytest.mark.e2e


def confirmed_codes(host: Host, token: str, event: dict[str, object], quantity: int
                    ) -> list[str]:
    """Buy ``quantity`` tickets over the API; returns their signed codes."""
    tt = event["ticket_types"][0]["id"]  # type: ignore[index]
    auth = {"authorization": f"Bearer {token}"}
    with host.api() as c:
        r = c.post(f"/api/events/{event['id']}/holds", headers=auth,
                   json={"items": [{"ticket_type_id": tt, "quantity": quantity}]})
        r.raise_for_status()
        r = c.post(f"/api/holds/{r.json()['hold_id']}/checkout", headers=auth,
                   json={"payment_token": "tok_visa"})
        r.raise_for_status()
        order_id = r.json()["order_id"]
        deadline = time.monotonic() + 30
        # Payment is asynchronous: wait for the order to be final (a condition, not a time).
        while (order := c.get(f"/api/orders/{order_id}", headers=auth).json())[
                "status"] == "pending":
            assert time.monotonic() < deadline, "the order did not become final"
            time.sleep(0.1)
    assert order["status"] == "confirmed"
    return [t["code"] for t in order["tickets"]]


def test_staff_check_tickets_in_by_typing_the_code(page: Page, host: Host) -> None:
    event = create_event(host, 10, "Door Night")
    buyer_email, buyer_password = host.buyer("gus")
    codes = confirmed_codes(host, host.token(buyer_email, buyer_password), event, 2)
    staff_email, staff_password = host.buyer("dora")

    log_in(page, host, "admin@example.com", "admin-password",
           f"/admin/events/{event['id']}/edit")
    page.get_by_role("link", name="Door staff").click()
    expect(page.get_by_role("heading", name="Door staff: Door Night")).to_be_visible()
    page.get_by_label("Email of their account").fill(staff_email)
    page.get_by_role("button", name="Add door staff").click()
    expect(page.get_by_text(f"({staff_email})")).to_be_visible()
    audit(page)
    page.evaluate("() => localStorage.clear()")

    log_in(page, host, staff_email, staff_password, "/door")
    page.get_by_role("link", name="Door Night").click()
    expect(page.get_by_role("heading", name="Check in: Door Night")).to_be_visible()
    expect(page.get_by_text("0 of 2 tickets checked in")).to_be_visible()
    audit(page)

    def scan(code: str) -> None:
        page.get_by_label("Ticket code").fill(code)
        page.get_by_role("button", name="Check in", exact=True).click()

    scan(codes[0])
    verdict = page.locator(".verdict")
    expect(verdict).to_contain_text("Valid: let them in")
    expect(verdict).to_have_class("verdict verdict-ok")
    expect(page.get_by_text("1 of 2 tickets checked in")).to_be_visible()
    audit(page)
    scan(codes[0])
    expect(verdict).to_contain_text("Already checked in")
    expect(verdict).to_contain_text("by dora")
    expect(verdict).to_have_class("verdict verdict-no")
    forged = codes[1][:-1] + ("A" if codes[1][-1] != "A" else "B")
    scan(forged)
    expect(verdict).to_contain_text("Not a genuine ticket")
    expect(verdict).to_have_class("verdict verdict-no")
    scan(codes[1])
    expect(verdict).to_contain_text("Valid: let them in")
    expect(page.get_by_text("2 of 2 tickets checked in")).to_be_visible()
