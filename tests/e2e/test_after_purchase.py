"""After the purchase, in a real browser. My orders: the event of each order, upcoming and
past; the order page's tickets with QR codes and states; the PDF and .ics downloads. Door
check-in: an organiser adds door staff on the event's page; the staff member opens the
check-in page and types ticket codes (the camera's fallback): a valid ticket turns the
screen green once, a second scan and a forged code turn it red."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Host, audit, new_page
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


def test_my_orders_show_the_event_and_the_order_page_offers_pdf_and_calendar(
        page: Page, host: Host, tmp_path: Path) -> None:
    event = create_event(host, 10, "Orders Evening")
    email, password = host.buyer("ida")
    token = host.token(email, password)
    codes = confirmed_codes(host, token, event, 2)
    admin = host.token("admin@example.com", "admin-password")
    with host.api() as c:
        c.post(f"/api/admin/events/{event['id']}/staff", headers={
            "authorization": f"Bearer {admin}"}, json={"email": email}).raise_for_status()
        c.post(f"/api/staff/events/{event['id']}/checkins", headers={
            "authorization": f"Bearer {token}"}, json={"code": codes[0]}).raise_for_status()

    log_in(page, host, email, password, "/me/orders")
    upcoming = page.get_by_role("region", name="Upcoming")
    expect(upcoming.get_by_role("link", name=re.compile("Orders Evening"))).to_be_visible()
    # The venue's local time (Lisbon, summer): 20:00 WEST for 19:00 UTC.
    expect(upcoming.get_by_text(re.compile(r"20:00 .*Browser Hall, Porto"))).to_be_visible()
    audit(page)
    upcoming.get_by_role("link", name=re.compile("Orders Evening")).click()
    expect(page.get_by_role("heading", name="You're going!")).to_be_visible()
    expect(page.get_by_role("img", name="QR code for ticket")).to_have_count(2)
    expect(page.locator(".ticket-state")).to_have_text(["Checked in", "Valid"])
    with page.expect_download() as pdf:
        page.get_by_role("button", name="Download tickets (PDF)").click()
    saved = tmp_path / "tickets.pdf"
    pdf.value.save_as(saved)
    assert pdf.value.suggested_filename == "tickets.pdf"
    assert saved.read_bytes().startswith(b"%PDF")
    with page.expect_download() as ics:
        page.get_by_role("button", name="Add to calendar (.ics)").click()
    ics.value.save_as(tmp_path / "event.ics")
    text = (tmp_path / "event.ics").read_text()
    assert "SUMMARY:Orders Evening" in text and "DTSTART:20270501T190000Z" in text
    audit(page)


def qr_video(path: Path, code: str, width: int = 640, height: int = 480) -> Path:
    """A Y4M clip of one ticket's QR code, for Chromium's fake camera (a few identical
    frames; Chromium loops the file)."""
    import segno

    rows = [list(r) for r in segno.make_qr(code, error="m").matrix_iter(scale=1, border=4)]
    scale = min(width, height) // len(rows)
    left, top = (width - len(rows) * scale) // 2, (height - len(rows) * scale) // 2
    luma = bytearray(b"\xff" * (width * height))
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + y * scale + dy) * width + left + x * scale
                    luma[start:start + scale] = b"\x00" * scale
    chroma = b"\x80" * (width * height // 4)
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F5:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(5):
            f.write(b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


def test_the_camera_reads_a_ticket_and_admits_it(browser: Browser, host: Host,
                                                 tmp_path: Path) -> None:
    """Chromium's fake camera shows a ticket's QR code; the check-in page reads it (the
    browser's BarcodeDetector, or the jsQR decoder where there is none) and admits it."""
    event = create_event(host, 5, "Camera Night")
    email, password = host.buyer("cam")
    (code,) = confirmed_codes(host, host.token(email, password), event, 1)
    clip = qr_video(tmp_path / "ticket.y4m", code)
    # A second Chromium from the same Playwright (one sync Playwright per thread), with the
    # clip as its camera.
    camera = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[
        *CHROMIUM_ARGS, "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={clip}"])
    try:
        page = new_page(camera)
        page.context.grant_permissions(["camera"], origin=host.base_url)
        log_in(page, host, "admin@example.com", "admin-password", f"/door/{event['id']}")
        expect(page.get_by_role("heading", name="Check in: Camera Night")).to_be_visible()
        page.get_by_role("button", name="Scan with camera").click()
        verdict = page.locator(".verdict")
        expect(verdict).to_contain_text("Valid: let them in", timeout=30_000)
        expect(page.get_by_text("1 of 1 tickets checked in")).to_be_visible()
        audit(page)
    finally:
        camera.close()
