"""A buyer in a real browser while the shop's redis-server is killed (issue 12): the page
says "Busy but selling", the hold and the payment go through SQL, and the order is confirmed
once redis-server is started again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from shared.local.redis_server import RedisServer
from tests.e2e.conftest import ARTIFACTS, Host, start_host, stop_host
from tests.e2e.test_browser import create_event, log_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def redis_and_host(tmp_path: Path) -> Iterator[tuple[RedisServer, Host]]:
    """The stack `make run` starts, on a redis-server this test owns (so it can kill it)."""
    server = RedisServer(tmp_path / "redis", extra_args=("--appendfsync", "always"))
    server.start()
    host = start_host(tmp_path / "host", REDIS_URL=server.url, BREAKER_OPEN_SECONDS="0.2",
                      BREAKER_MAX_OPEN_SECONDS="1", SEED_DEMO="false")
    yield server, host
    stop_host(host)
    server.stop()


def test_busy_but_selling_while_redis_is_down(
        page: Page, redis_and_host: tuple[RedisServer, Host]) -> None:
    server, host = redis_and_host
    event = create_event(host, 10, "Outage Night")
    email, password = host.buyer("dora")
    log_in(page, host, email, password, f"/events/{event['id']}")
    expect(page.get_by_text("10 left")).to_be_visible()
    expect(page.get_by_text("Busy but selling")).to_have_count(0)
    server.kill()
    # The event page polls availability every 3 s; the answer carries Leap-Degraded.
    expect(page.get_by_text("Busy but selling")).to_be_visible()
    page.get_by_label("More Standing tickets").click()
    page.get_by_label("More Standing tickets").click()
    page.get_by_role("button", name="Hold tickets").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", name="Processing your payment")).to_be_visible()
    expect(page.get_by_text("Busy but selling")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "degraded-busy-but-selling.png"), full_page=True)
    server.start()  # same AOF directory: the payment message waits in the SQL outbox
    expect(page.get_by_role("heading", name="You're going!")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("img", name="QR code for ticket")).to_have_count(2)
    expect(page.get_by_text("Busy but selling")).to_have_count(0)
