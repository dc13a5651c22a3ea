"""The waiting room in a real browser (Chromium, 375 px): a buyer of a queued on-sale is sent
to the waiting page, sees their place, the expected wait and a progress bar update live, keeps
the place across a reload, and is brought back to the event to buy once admitted; the
organiser turns the queue on and pauses it from the edit page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Host
from tests.e2e.test_browser import create_event, log_in

pytestmark = pytest.mark.e2e


def test_a_queued_buyer_waits_then_buys(page: Page, host: Host) -> None:
    event = create_event(host, 50, "Queue Night")
    admin = host.token("admin@example.com", "admin-password")
    auth = {"authorization": f"Bearer {admin}"}
    with host.api() as c:
        # One admission every 3 s, and five people in line before our buyer.
        r = c.put(f"/api/admin/events/{event['id']}/queue", headers=auth, json={
            "enabled": True, "opens_at": datetime.now(UTC).isoformat(), "admit_per_minute": 20})
        r.raise_for_status()
        for i in range(5):
            email, password = host.buyer(f"early{i}")
            c.post(f"/api/events/{event['id']}/queue", headers={
                "authorization": f"Bearer {host.token(email, password)}"}).raise_for_status()
    email, password = host.buyer("queued")
    log_in(page, host, email, password, f"/events/{event['id']}")
    expect(page.get_by_text("This sale runs through a waiting room.")).to_be_visible()
    page.get_by_label("More Standing tickets").click()
    page.get_by_role("button", name="Hold tickets").click()
    expect(page.get_by_role("heading", name="Waiting room: Queue Night")).to_be_visible()
    status = page.get_by_role("status").filter(has_text="Expected wait")
    expect(status).to_contain_text("ahead of you")
    expect(page.get_by_label("Your progress in the queue")).to_be_visible()
    page.reload()  # the place is kept
    expect(page.get_by_role("heading", name="Waiting room: Queue Night")).to_be_visible()
    # Admitted (the page polls every few seconds): back at the event with the token.
    expect(page.get_by_text("It's your turn")).to_be_visible(timeout=60_000)
    page.get_by_label("More Standing tickets").click()
    page.get_by_role("button", name="Hold tickets").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()


def test_organiser_turns_the_queue_on_and_pauses_it(page: Page, host: Host) -> None:
    event = create_event(host, 50, "Queue Admin Night")
    log_in(page, host, "admin@example.com", "admin-password", f"/admin/events/{event['id']}/edit")
    expect(page.get_by_role("group", name="Waiting room")).to_be_visible()
    page.get_by_label("Sell through a waiting room").check()
    page.get_by_label("Buyers admitted per minute").fill("120")
    page.get_by_role("button", name="Save waiting room").click()
    expect(page.get_by_text("admitting")).to_be_visible()
    page.get_by_role("button", name="Pause admission").click()
    expect(page.get_by_text("paused", exact=True)).to_be_visible()
    page.get_by_role("button", name="Resume admission").click()
    expect(page.get_by_text("admitting")).to_be_visible()
    # Saving again (a new rate) keeps the opening time the form shows only to the minute.
    page.get_by_label("Buyers admitted per minute").fill("90")
    with page.expect_response(lambda r: r.url.endswith("/queue")
                              and r.request.method == "PUT") as saved:
        page.get_by_role("button", name="Save waiting room").click()
    assert saved.value.status == 200
    expect(page.get_by_role("alert")).to_have_count(0)
    with host.api() as c:
        shown = c.get(f"/api/events/{event['id']}").json()["queue"]
    assert shown == {"enabled": True, "opens_at": shown["opens_at"], "admit_per_minute": 90}
