"""Flash-sale benchmark: N tickets, M buyers racing for them through the real HTTP API.

Starts its own redis-server and the local stack (``python -m shared.local``) in a separate
process, unless ``--url`` targets a running one. Prints one JSON document. First, the hold
load against the API and against a bare ASGI endpoint making the same single Redis script
call, ``--rounds`` times each on a quiet machine, and the median ratio between the two. Then
the sale: hold requests/s, p50/p95/p99 hold latency, time to sell out, oversold count (must
be 0), orders finalized per second. Then, in the same run (issue 12), a second sale
with redis-server killed: holds and checkouts in degraded mode (SQL), the same figures, the
degraded/normal hold throughput ratio, and the orders confirmed once Redis is started again.

    python bench/flash_sale.py --tickets 500 --buyers 5000 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402
from bench.loadgen import Job, Result  # noqa: E402
from bench.quiet import QUIET_CORES, QUIET_WAIT_S, median_item, quiet_machine  # noqa: E402
from shared.adapters.redis_keys import event_keys, rate_key  # noqa: E402
from shared.adapters.redis_store import RedisInventory  # noqa: E402
from shared.local.ports import free_port  # noqa: E402
from shared.local.redis_server import RedisServer  # noqa: E402
from shared.models import InventoryLine  # noqa: E402
from shared.ports import EventRules  # noqa: E402

PASSWORD = "bench-password-1"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    async with httpx.AsyncClient() as c:
        for _ in range(600):
            if proc is not None and proc.poll() is not None:
                raise SystemExit(f"server at {url} exited with {proc.returncode}")
            try:
                await c.get(url, timeout=1)
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def summary(results: list[Result], wall: float) -> dict[str, Any]:
    lat = [r.latency_s * 1000 for r in results]
    return {
        "requests": len(results), "requests_per_s": round(len(results) / wall, 1),
        "p50_ms": round(percentile(lat, 50), 2), "p95_ms": round(percentile(lat, 95), 2),
        "p99_ms": round(percentile(lat, 99), 2),
        "statuses": {str(s): sum(1 for r in results if r.status == s)
                     for s in sorted({r.status for r in results})},
    }


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


async def buyers(base: str, count: int, concurrency: int) -> list[str]:
    """Register and log in ``count`` buyer accounts; returns their bearer tokens."""
    creds = [{"email": f"b{i}@bench.example", "password": PASSWORD} for i in range(count)]
    await loadgen.run(base, [Job("POST", "/api/auth/register", {**c, "display_name": "B"})
                             for c in creds], concurrency)
    logins, _ = await loadgen.run(base, [Job("POST", "/api/auth/login", c) for c in creds],
                                  concurrency)
    return [r.json()["token"] for r in logins]


async def confirmed_orders(base: str, orders: dict[str, str], concurrency: int,
                           outcomes: dict[str, int] | None = None) -> int:
    """Poll until no order is pending (as a buyer sees it); returns how many confirmed and
    counts every outcome (``failed:<reason>``, ``pending`` if still so) in ``outcomes``."""
    pending, confirmed = dict(orders), 0
    outcomes = {} if outcomes is None else outcomes
    deadline = time.monotonic() + 120
    while pending and time.monotonic() < deadline:
        ids = list(pending)
        answers, _ = await loadgen.run(base, [
            Job("GET", f"/api/orders/{i}", token=pending[i]) for i in ids], concurrency)
        for order_id, answer in zip(ids, answers, strict=True):
            if answer.status != 200:
                continue  # e.g. 503 while a dependency is down: ask again
            body = answer.json()
            if (status := body["status"]) != "pending":
                confirmed += status == "confirmed"
                key = status if status == "confirmed" else f"{status}:{body.get('reason')}"
                outcomes[key] = outcomes.get(key, 0) + 1
                del pending[order_id]
        await asyncio.sleep(0.05)
    if pending:
        outcomes["pending"] = len(pending)
    return confirmed


async def create_event(base: str, admin_token: str, name: str, tickets: int) -> dict[str, Any]:
    (created,), _ = await loadgen.run(base, [Job("POST", "/api/admin/events", {
        "name": name, "starts_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "venue": {"name": "Bench Arena", "city": "Bench"}, "per_user_limit": 8,
        "ticket_types": [{"name": "GA", "price": 5000, "capacity": tickets}]},
        token=admin_token)], 1)
    event: dict[str, Any] = created.json()
    return event


async def holds(base: str, args: argparse.Namespace, event: dict[str, Any],
                tokens: list[str]) -> tuple[list[Result], float]:
    """``args.buyers`` hold requests of one ticket each for the event, from the accounts in
    turn; returns the results and the wall time."""
    body = {"items": [{"ticket_type_id": event["ticket_types"][0]["id"], "quantity": 1}]}
    return await loadgen.run(base, [
        Job("POST", f"/api/events/{event['id']}/holds", body, tokens[i % len(tokens)])
        for i in range(args.buyers)], args.concurrency)


async def race(base: str, args: argparse.Namespace, event: dict[str, Any],
               tokens: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Race the buyers for the event and pay for every hold won; returns the figures and
    the orders answered 202 (order id -> its buyer's token)."""
    accounts = len(tokens)
    results, wall = await holds(base, args, event, tokens)
    won = [(r.json()["hold_id"], tokens[i % accounts]) for i, r in enumerate(results)
           if r.status == 201]
    checkouts, _ = await loadgen.run(base, [
        Job("POST", f"/api/holds/{hold}/checkout", {"payment_token": "tok_visa"}, token)
        for hold, token in won], args.concurrency)
    figures = {
        "hold": summary(results, wall),
        "time_to_sell_out_s": round(max((r.finished_s for r in results if r.status == 201),
                                        default=0), 3),
        "holds_won": len(won),
        "checkout_statuses": summary(checkouts, 1)["statuses"],
    }
    orders = {r.json()["order_id"]: token for r, (_, token) in zip(checkouts, won, strict=True)
              if r.status == 202}
    return figures, orders


async def sale(base: str, args: argparse.Namespace, admin_token: str,
               tokens: list[str]) -> dict[str, Any]:
    """Create the event, race the buyers for it, pay for every hold, wait for the orders."""
    event = await create_event(base, admin_token, "Bench on-sale", args.tickets)
    figures, orders = await race(base, args, event, tokens)
    t_orders = time.perf_counter()
    sold = await confirmed_orders(base, orders, args.concurrency)
    finalize_wall = time.perf_counter() - t_orders
    return {
        "tickets": args.tickets, "buyers": args.buyers, "accounts": len(tokens),
        "concurrency": args.concurrency, **figures,
        "oversold": max(0, figures["holds_won"] - args.tickets) + max(0, sold - args.tickets),
        "orders_confirmed": sold,
        "orders_finalized_per_s": round(sold / finalize_wall, 1),
    }


async def degraded_sale(base: str, args: argparse.Namespace, admin_token: str,
                        tokens: list[str], redis_server: RedisServer) -> dict[str, Any]:
    """The same sale with redis-server killed (SIGKILL): holds and checkouts go to SQL; the
    payment messages wait in the SQL outbox and are confirmed once Redis is started again."""
    event = await create_event(base, admin_token, "Bench on-sale (degraded)", args.tickets)
    redis_server.kill()
    try:
        async with httpx.AsyncClient() as c:  # the breaker opens at the first failures
            ready = (await c.get(f"{base}/api/health/ready", timeout=30)).json()
        figures, orders = await race(base, args, event, tokens)
    finally:
        redis_server.start()
    async with httpx.AsyncClient() as c:
        for _ in range(600):  # the breaker's probe merges the stores, then closes
            if (await c.get(f"{base}/api/health/ready", timeout=30)).json().get(
                    "status") == "ready":
                break
            await asyncio.sleep(0.1)
    outcomes: dict[str, int] = {}
    sold = await confirmed_orders(base, orders, args.concurrency, outcomes)
    return {
        "health_while_down": ready.get("status"), **figures,
        "oversold": max(0, figures["holds_won"] - args.tickets) + max(0, sold - args.tickets),
        "orders_confirmed_after_restart": sold, "order_outcomes": outcomes,
    }


BARE_EVENT = "bare-bench-event"


async def start_bare(redis_url: str, env: dict[str, str],
                     procs: list[subprocess.Popen[bytes]]) -> str:
    """The bare endpoint (one hold.lua call, nothing else) in a process of its own; returns
    its base URL."""
    port = free_port()
    procs.append(spawn([sys.executable, str(ROOT / "bench" / "bare_hold_app.py"), str(port)],
                       {**env, "BARE_EVENT_ID": BARE_EVENT, "BARE_TICKET_TYPE": "GA",
                        "PYTHONPATH": str(ROOT)}))
    await wait_http(f"http://127.0.0.1:{port}", procs[-1])
    return f"http://127.0.0.1:{port}"


async def bare(args: argparse.Namespace, redis_url: str, bare_base: str) -> dict[str, Any]:
    """The hold load against the bare endpoint, on an inventory of ``args.tickets`` loaded
    afresh (the last round's holds deleted first: a reload counts active holds as taken)."""
    from redis.asyncio import Redis

    r = Redis.from_url(redis_url, decode_responses=True)
    await r.delete(*event_keys(BARE_EVENT), rate_key(BARE_EVENT))
    await RedisInventory(r).load(BARE_EVENT, EventRules("EUR", 10**6, "on_sale", {"GA": 5000}),
                                 [InventoryLine(BARE_EVENT, "GA", args.tickets, 0)],
                                 replace=True)
    await r.aclose()
    body = {"items": [{"ticket_type_id": "GA", "quantity": 1}]}
    results, wall = await loadgen.run(bare_base,
                                      [Job("POST", "/", body) for _ in range(args.buyers)],
                                      args.concurrency)
    out = summary(results, wall)
    if out["statuses"].get("201") != args.tickets:
        raise SystemExit(f"the bare endpoint did not sell {args.tickets} tickets: "
                         f"{out['statuses']}")
    return out


async def hold_against_bare(base: str, bare_base: str, redis_url: str,
                            args: argparse.Namespace, admin_token: str,
                            tokens: list[str]) -> dict[str, Any]:
    """The hold endpoint against the bare one, ``args.rounds`` times, each measurement on a
    quiet machine and the two back to back (in turn first, so a drift falls on both).

    Holds only, on a fresh event each round: no checkout, so no confirmation or email work
    is left running to fall on the next measurement. Reports the round with the median
    ratio and every round's figures."""
    rounds: list[dict[str, Any]] = []
    for n in range(args.rounds):
        event = await create_event(base, admin_token, f"Bench holds {n}", args.tickets)
        figures: dict[str, Any] = {}
        for side in (("api", "bare") if n % 2 == 0 else ("bare", "api")):
            quiet = await quiet_machine(patience_s=args.quiet_wait)
            if side == "api":
                results, wall = await holds(base, args, event, tokens)
                figures["hold"] = summary(results, wall)
                if (won := figures["hold"]["statuses"].get("201", 0)) > args.tickets:
                    raise SystemExit(f"OVERSOLD: {won} holds of {args.tickets} tickets")
            else:
                figures["bare_asgi_hold"] = await bare(args, redis_url, bare_base)
            figures[f"{side}_machine_busy_before_cores"] = quiet
        figures["ratio"] = round(figures["hold"]["requests_per_s"]
                                 / figures["bare_asgi_hold"]["requests_per_s"], 3)
        rounds.append(figures)
    chosen = dict(median_item(rounds, lambda f: f["ratio"]))
    chosen["rounds"] = [{"api_hold_requests_per_s": f["hold"]["requests_per_s"],
                         "bare_hold_requests_per_s": f["bare_asgi_hold"]["requests_per_s"],
                         "ratio": f["ratio"]} for f in rounds]
    return chosen


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="leap-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    redis_server = RedisServer(tmp / "redis", appendonly=True)
    redis_url = redis_server.start()
    # Cheap password hashing and wide rate limits: the benchmark measures the sale, not account
    # creation or the limiter (whose buckets are still taken on every request).
    env = {**os.environ, "REDIS_URL": redis_url, "LEAP_DATA_DIR": str(tmp / "data"),
           "SEED_DEMO": "false", "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "1024",
           "ARGON2_PARALLELISM": "1", "ADMIN_PASSWORD": PASSWORD,
           "RATE_AUTH_PER_IP": "1000000/1", "RATE_HOLDS_PER_USER": "1000000/1",
           "RATE_HOLDS_PER_USER_EVENT": "1000000/1", "RATE_CHECKOUT_PER_USER": "1000000/1",
           # One API process, like the bare endpoint it is compared with.
           "WORKERS": str(args.workers)}
    try:
        base = args.url
        if not base:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            procs.append(spawn([sys.executable, "-m", "shared.local"], {**env, "PORT": str(port)}))
            await wait_http(f"{base}/api/health", procs[-1])
        (login,), _ = await loadgen.run(base, [Job("POST", "/api/auth/login", {
            "email": "admin@example.com", "password": PASSWORD})], 1)
        admin_token = login.json()["token"]
        tokens = await buyers(base, min(args.buyers, args.accounts), args.concurrency)
        # First, while nothing else has happened on the stack: holds against the bare endpoint.
        bare_base = await start_bare(redis_url, env, procs)
        against = await hold_against_bare(base, bare_base, redis_url, args, admin_token, tokens)
        out = await sale(base, args, admin_token, tokens)
        if not args.url:  # only a stack whose redis-server we own can lose it
            out["degraded"] = await degraded_sale(base, args, admin_token, tokens, redis_server)
            out["degraded_to_normal_hold_throughput_ratio"] = round(
                out["degraded"]["hold"]["requests_per_s"] / out["hold"]["requests_per_s"], 3)
            out["oversold"] += out["degraded"]["oversold"]
        out["hold_against_bare"] = against
        out["api_to_bare_throughput_ratio"] = against["ratio"]
        return out
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--buyers", type=int, default=5000, help="hold requests sent")
    parser.add_argument("--accounts", type=int, default=1000, help="distinct buyer accounts")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--url", default="", help="target a running stack instead")
    parser.add_argument("--workers", type=int, default=1, help="API worker processes")
    parser.add_argument("--rounds", type=int, default=5,
                        help="hold-against-bare measurements; the median ratio is reported")
    parser.add_argument("--quiet-wait", type=float, default=QUIET_WAIT_S,
                        help=f"seconds to wait, before each measurement, for the machine to "
                             f"use under {QUIET_CORES} cores")
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    args = parser.parse_args()
    if args.smoke:
        args.tickets, args.buyers, args.accounts, args.concurrency = 20, 200, 50, 16
        args.rounds, args.quiet_wait = 1, 0.0
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))
    if result["oversold"]:
        raise SystemExit("OVERSOLD")


if __name__ == "__main__":
    main()
