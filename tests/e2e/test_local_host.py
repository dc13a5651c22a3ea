"""What ``make run`` runs (``python -m shared.local``), as a user would: it starts its own
redis-server, seeds demo events, sells a ticket end to end, stops every child on Ctrl-C,
and finds its data again on the next start (AOF on)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import start_host, stop_host

ROOT = Path(__file__).resolve().parents[2]


def _redis_children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=,ppid=,comm=", "-e"], capture_output=True,
                         text=True, check=True).stdout
    return [int(p) for p, pp, comm in (line.split(None, 2) for line in out.splitlines())
            if int(pp) == pid and comm.startswith("redis-server")]


@pytest.mark.e2e
def test_local_host_sells_a_ticket_and_stops_cleanly(tmp_path: Path) -> None:
    host = start_host(tmp_path)
    base = host.base_url
    try:
        children = _redis_children(host.process.pid)
        assert len(children) == 1
        with httpx.Client(base_url=base, timeout=10) as c:
            events = c.get("/api/events").json()["items"]
            assert len(events) == 4  # the demo events
            page = c.get("/")  # the web app, with page security headers and no caching
            assert page.status_code == 200
            assert "script-src 'self'" in page.headers["content-security-policy"]
            assert page.headers["x-frame-options"] == "DENY"
            assert page.headers["cache-control"] == "no-cache"
            deep = c.get("/events/some-event-id")  # navigation fallback to the app
            assert deep.status_code == 200 and "<div id=\"root\">" in deep.text
            login = c.post("/api/auth/login", json={"email": "admin@example.com",
                                                   "password": "admin-password"})
            assert login.status_code == 200
            c.headers["authorization"] = f"Bearer {login.json()['token']}"
            event = events[0]
            tt = event["ticket_types"][0]["id"]
            hold = c.post(f"/api/events/{event['id']}/holds",
                          json={"items": [{"ticket_type_id": tt, "quantity": 2}]})
            assert hold.status_code == 201
            order_id = c.post(f"/api/holds/{hold.json()['hold_id']}/checkout",
                              json={"payment_token": "tok_visa"}).json()["order_id"]
            deadline = time.monotonic() + 30
            while (order := c.get(f"/api/orders/{order_id}").json())["status"] == "pending":
                assert time.monotonic() < deadline
                time.sleep(0.1)
            assert order["status"] == "confirmed" and len(order["tickets"]) == 2
    finally:
        out = stop_host(host)
    assert host.process.returncode == 0, out
    assert "admin@example.com / admin-password" in out
    assert "seeded 4 demo events" in out
    for child in children:
        with pytest.raises(ProcessLookupError):
            os.kill(child, 0)

    _restart_keeps_data(tmp_path, order_id, event, tt)


def _restart_keeps_data(tmp_path: Path, order_id: str, event: dict[str, Any], tt: str) -> None:
    """Second start: same data directory, no re-seeding, the order is still there."""
    host = start_host(tmp_path)
    try:
        with httpx.Client(base_url=host.base_url, timeout=10) as c:
            login = c.post("/api/auth/login", json={"email": "admin@example.com",
                                                   "password": "admin-password"})
            c.headers["authorization"] = f"Bearer {login.json()['token']}"
            mine = c.get("/api/me/orders").json()["items"]
            assert [o["order_id"] for o in mine] == [order_id]
            avail = c.get(f"/api/events/{event['id']}/availability").json()
            left = {t["id"]: t["available"] for t in avail["ticket_types"]}
            assert left[tt] == event["ticket_types"][0]["capacity"] - 2
    finally:
        out = stop_host(host)
    assert host.process.returncode == 0, out
    assert "seeded" not in out


def _children(pid: int, module: str) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=,ppid=,args=", "-e"], capture_output=True,
                         text=True, check=True).stdout
    return [int(p) for p, pp, args in (line.split(None, 2) for line in out.splitlines())
            if int(pp) == pid and f"-m {module}" in args]


@pytest.mark.e2e
def test_two_workers_both_serve_and_exactly_one_runs_the_reconciler(tmp_path: Path) -> None:
    host = start_host(tmp_path, WORKERS="2", HOLD_SECONDS="1", SEED_DEMO="true")
    try:
        workers = _children(host.process.pid, "shared.local.workers")
        assert len(workers) == 2
        # The email sender runs beside them, niced below them.
        (mailer,) = _children(host.process.pid, "shared.local.mailer")
        assert os.getpriority(os.PRIO_PROCESS, mailer) > os.getpriority(
            os.PRIO_PROCESS, workers[0])
        served: set[str] = set()
        deadline = time.monotonic() + 30
        # Fresh connections: the kernel spreads them over the two listening workers.
        while served != {"worker-0", "worker-1"}:
            assert time.monotonic() < deadline, f"only {served} answered"
            with httpx.Client(base_url=host.base_url, timeout=10) as c:
                served.add(c.get("/api/health").headers["x-served-by"])
        with httpx.Client(base_url=host.base_url, timeout=10) as c:
            login = c.post("/api/auth/login", json={"email": "admin@example.com",
                                                   "password": "admin-password"})
            c.headers["authorization"] = f"Bearer {login.json()['token']}"
            event = c.get("/api/events").json()["items"][0]
            tt = event["ticket_types"][0]
            hold = c.post(f"/api/events/{event['id']}/holds",
                          json={"items": [{"ticket_type_id": tt["id"], "quantity": 1}]})
            assert hold.status_code == 201
            # Nobody else takes a hold, so only the reconciler can release this one.
            deadline = time.monotonic() + 30
            while (c.get(f"/api/holds/{hold.json()['hold_id']}").json()["status"]
                   != "released"):
                assert time.monotonic() < deadline, "no reconciler released the hold"
                time.sleep(0.2)
            # A purchase: a worker confirms it, the mailer process sends its email.
            hold = c.post(f"/api/events/{event['id']}/holds",
                          json={"items": [{"ticket_type_id": tt["id"], "quantity": 1}]})
            order = c.post(f"/api/holds/{hold.json()['hold_id']}/checkout",
                           json={"payment_token": "tok_visa"}).json()["order_id"]
            assert c.get(f"/api/orders/{order}?wait=20").json()["status"] == "confirmed"
            deadline = time.monotonic() + 30
            while not any(order in m.read_text() for m in (tmp_path / "mail").glob("*.eml")):
                assert time.monotonic() < deadline, "no confirmation email arrived"
                time.sleep(0.2)
    finally:
        out = stop_host(host)
    assert host.process.returncode == 0, out
    assert out.count("holds the reconciler lease") == 1, out
    assert out.count(": serving; payments consumer") == 2, out
    assert "(2 worker processes)" in out
    assert out.count("mailer (pid") == 1, out
    for child in (*workers, mailer):  # Ctrl-C stopped every process
        with pytest.raises(ProcessLookupError):
            os.kill(child, 0)
