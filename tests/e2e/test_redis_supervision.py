"""The local host supervises its redis-server (issue 12.3): after a ``kill -9`` of the child,
the host starts it again from its AOF, says so in its log, and sales work again with
nothing lost (the holds and the order taken before the kill are still there)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Host, start_host
from tests.e2e.host_invariant import assert_host_invariant
from tests.e2e.test_local_host import _redis_children


def _read(c: httpx.Client, path: str) -> Any:
    """GET, retrying 503s: a pooled connection from before the restart fails once (503,
    Retry-After) and is replaced."""
    deadline = time.monotonic() + 30
    while (r := c.get(path)).status_code == 503:
        assert time.monotonic() < deadline, r.text
        time.sleep(0.1)  # as Retry-After asks, briefly
    assert r.status_code == 200, r.text
    return r.json()


class _Drain:
    """Reads the host's output while it runs: during the outage it logs a traceback per
    failed pass, and a full pipe would block the host's own logging (and its event loop)."""

    def __init__(self, host: Host) -> None:
        self.lines: list[str] = []
        assert host.process.stdout is not None
        self._out = host.process.stdout
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for line in self._out:
            self.lines.append(line)

    def stop(self, host: Host) -> str:
        """Ctrl-C, as a user would; returns everything the host printed."""
        host.process.send_signal(signal.SIGINT)
        try:
            host.process.wait(30)
        except subprocess.TimeoutExpired:
            host.process.kill()
            host.process.wait()
        self._thread.join(10)
        return "".join(self.lines)


@pytest.mark.e2e
def test_a_killed_redis_server_is_restarted_from_its_aof_and_nothing_is_lost(
        tmp_path: Path) -> None:
    host = start_host(tmp_path)
    drain = _Drain(host)
    try:
        email, password = host.buyer("redis-kill")
        auth = {"authorization": f"Bearer {host.token(email, password)}"}
        with host.api() as c:
            c.headers.update(auth)
            event = c.get("/api/events").json()["items"][0]
            tt = event["ticket_types"][0]
            line = {"items": [{"ticket_type_id": tt["id"], "quantity": 1}]}
            kept = c.post(f"/api/events/{event['id']}/holds", json=line).json()["hold_id"]
            paid = c.post(f"/api/events/{event['id']}/holds", json=line).json()["hold_id"]
            order_id = c.post(f"/api/holds/{paid}/checkout",
                              json={"payment_token": "tok_visa"}).json()["order_id"]
            deadline = time.monotonic() + 60
            while c.get(f"/api/orders/{order_id}").json()["status"] != "confirmed":
                assert time.monotonic() < deadline, "the order did not confirm"
                time.sleep(0.1)

            (old,) = _redis_children(host.process.pid)
            os.kill(old, signal.SIGKILL)

            deadline = time.monotonic() + 60
            last = ""
            while True:  # until the restarted redis-server serves holds again
                assert time.monotonic() < deadline, f"holds did not work again: {last}"
                try:
                    after = c.post(f"/api/events/{event['id']}/holds", json=line)
                    if after.status_code == 201:
                        break
                    last = f"{after.status_code} {after.text}"
                except httpx.TransportError as exc:
                    last = repr(exc)
                time.sleep(0.2)  # redis is down: give the supervisor's backoff its turn
            (new,) = _redis_children(host.process.pid)
            assert new != old

            held = _read(c, f"/api/holds/{kept}")
            assert held["status"] == "held"
            assert _read(c, f"/api/orders/{order_id}")["status"] == "confirmed"
            avail = _read(c, f"/api/events/{event['id']}/availability")
            left = {t["id"]: t["available"] for t in avail["ticket_types"]}
            # kept + paid + the hold after the restart: nothing given back, nothing lost.
            assert left[tt["id"]] == tt["capacity"] - 3
        assert_host_invariant(host, tmp_path, event["id"])
    finally:
        out = drain.stop(host)
        print(out)  # the host's log, shown when the test fails
    assert host.process.returncode == 0, out
    assert "restarting in" in out and "redis-server restarted on port" in out, out
