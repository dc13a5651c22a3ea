"""A server killed right after checkout.lua does not strand the buyer (issue 17.3), through
the real local host and a real kill -9: after a restart on the same data, the retry with the
same Idempotency-Key is answered (the dead request's claim was a lease), the order confirms,
the buyer is charged once, and the inventory invariant holds. Locally the payment message
entered the stream in checkout.lua's own step (issue 11); with Service Bus the outbox relay
publishes it (tests/integration/test_checkout_outbox.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import start_host, stop_host
from tests.e2e.host_invariant import assert_host_invariant
from tests.e2e.test_local_host import _redis_children

KEY = "checkout-after-crash-1"


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _wait(condition: object, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _crash_during_checkout(tmp_path: Path) -> tuple[dict[str, str], dict[str, Any], str]:
    """Hold 2 tickets and check out on a host that dies after checkout.lua; returns the
    buyer's auth header, the event and the hold id."""
    # One process (WORKERS=1): the checkout runs in the host itself, so the crash kills the
    # whole host, as a lost instance would; with worker processes the host would restart it.
    host = start_host(tmp_path, LEAP_TEST_CRASH_AFTER="checkout-script", WORKERS="1")
    email, password = host.buyer("crash")
    auth = {"authorization": f"Bearer {host.token(email, password)}"}
    with host.api() as c:
        event = c.get("/api/events").json()["items"][0]
        tt = event["ticket_types"][0]
        hold = c.post(f"/api/events/{event['id']}/holds", headers=auth,
                      json={"items": [{"ticket_type_id": tt["id"], "quantity": 2}]})
        assert hold.status_code == 201
        hold_id = str(hold.json()["hold_id"])
        redis_child = _redis_children(host.process.pid)
        with pytest.raises(httpx.TransportError):  # the server dies mid-request
            c.post(f"/api/holds/{hold_id}/checkout", json={"payment_token": "tok_visa"},
                   headers={**auth, "Idempotency-Key": KEY})
    assert host.process.wait(30) == -signal.SIGKILL
    # Its redis-server follows (told to die with its parent), flushing its AOF.
    _wait(lambda: all(_gone(pid) for pid in redis_child), "the old redis-server to exit")
    return auth, event, hold_id


def _retry_until_answered(c: httpx.Client, hold_id: str, auth: dict[str, str]) -> str:
    deadline = time.monotonic() + 60
    while True:
        retry = c.post(f"/api/holds/{hold_id}/checkout", json={"payment_token": "tok_visa"},
                       headers={**auth, "Idempotency-Key": KEY})
        if retry.status_code != 409:
            break
        # 409 in-progress only while the dead request's lease runs out.
        assert retry.headers["retry-after"] == "1"
        assert time.monotonic() < deadline, "the Idempotency-Key stayed in progress"
    assert retry.status_code == 202, retry.text
    return str(retry.json()["order_id"])


@pytest.mark.e2e
def test_kill_9_between_checkout_and_publish_then_retry_with_the_same_key(
        tmp_path: Path) -> None:
    auth, event, hold_id = _crash_during_checkout(tmp_path)
    host = start_host(tmp_path)  # same data directory: same AOF, ledger and gateway
    try:
        with host.api() as c:
            c.timeout = httpx.Timeout(30)
            order_id = _retry_until_answered(c, hold_id, auth)

            def confirmed() -> bool:
                return bool(c.get(f"/api/orders/{order_id}", headers=auth)
                            .json()["status"] == "confirmed")

            _wait(confirmed, "the order to confirm")
            order = c.get(f"/api/orders/{order_id}", headers=auth).json()
            assert len(order["tickets"]) == 2
            again = c.post(f"/api/holds/{hold_id}/checkout", json={"payment_token": "tok_visa"},
                           headers={**auth, "Idempotency-Key": KEY})
            assert again.status_code == 202 and again.json()["order_id"] == order_id
        with contextlib.closing(sqlite3.connect(tmp_path / "gateway.sqlite")) as db:
            charges = db.execute("SELECT idempotency_key, outcome, refunded FROM charges")\
                .fetchall()
        assert charges == [(order_id, "succeeded", 0)]  # once, and kept
        assert_host_invariant(host, tmp_path, event["id"])
    finally:
        out = stop_host(host)
    assert host.process.returncode == 0, out
