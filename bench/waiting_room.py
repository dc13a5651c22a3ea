"""Waiting-room benchmark (issue 14): queue joins and position reads per second through the
real API beside a bare ASGI endpoint making the same single script call, in the same run;
then a flash sale with the queue on, where visitors arrive ten times faster than they are
admitted and the hold endpoint sees the admission rate, not the arrival rate.

Starts its own redis-server (AOF on), the local stack (``python -m shared.local``) and the
bare app in separate processes. Prints one JSON document.

    python bench/waiting_room.py --visitors 2000 --seconds 15
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402
from bench.flash_sale import PASSWORD, buyers, percentile, spawn, summary, wait_http  # noqa: E402
from bench.loadgen import Job, Result  # noqa: E402
from shared.local.ports import free_port  # noqa: E402
from shared.local.redis_server import RedisServer  # noqa: E402
from shared.models import iso, now_ms  # noqa: E402


async def one(base: str, job: Job) -> Result:
    (result,), _ = await loadgen.run(base, [job], 1)
    if result.status >= 300:
        raise SystemExit(f"{job.method} {job.path} answered {result.status}: {result.body!r}")
    return result


async def event(base: str, admin: str, name: str, capacity: int,
                queue: dict[str, Any] | None) -> dict[str, Any]:
    created = (await one(base, Job("POST", "/api/admin/events", {
        "name": name, "starts_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "venue": {"name": "Bench Arena", "city": "Bench"}, "per_user_limit": 8,
        "ticket_types": [{"name": "GA", "price": 5000, "capacity": capacity}]},
        token=admin))).json()
    if queue is not None:
        await one(base, Job("PUT", f"/api/admin/events/{created['id']}/queue", queue,
                            token=admin))
    return dict(created)


async def floor_vs_api(base: str, bare: str, admin: str, tokens: list[str],
                       concurrency: int) -> dict[str, Any]:
    """Joins (into a pre-queue) and position reads: API vs the bare endpoint."""
    ev = await event(base, admin, "Bench pre-queue", 10, {
        "enabled": True, "opens_at": iso(now_ms() + 3_600_000), "admit_per_minute": 60})
    path = f"/api/events/{ev['id']}/queue"
    joins, joins_wall = await loadgen.run(base, [Job("POST", path, token=t) for t in tokens],
                                          concurrency)
    reads, reads_wall = await loadgen.run(base, [Job("GET", path, token=t) for t in tokens],
                                          concurrency)
    users = [f"bare-{i}" for i in range(len(tokens))]
    bare_joins, bare_joins_wall = await loadgen.run(
        bare, [Job("POST", f"/{u}") for u in users], concurrency)
    bare_reads, bare_reads_wall = await loadgen.run(
        bare, [Job("GET", f"/{u}") for u in users], concurrency)
    out = {"api_join": summary(joins, joins_wall), "api_position": summary(reads, reads_wall),
           "bare_join": summary(bare_joins, bare_joins_wall),
           "bare_position": summary(bare_reads, bare_reads_wall)}
    out["join_api_to_bare_ratio"] = round(
        out["api_join"]["requests_per_s"] / out["bare_join"]["requests_per_s"], 3)
    out["position_api_to_bare_ratio"] = round(
        out["api_position"]["requests_per_s"] / out["bare_position"]["requests_per_s"], 3)
    return out


async def queued_sale(base: str, admin: str, tokens: list[str],
                      args: argparse.Namespace) -> dict[str, Any]:
    """Hold capacity without a queue, then the buyers arriving through a queue that admits
    a small fraction of the arrival rate: the hold endpoint sees the admissions."""
    free = await event(base, admin, "Bench without queue", len(tokens) * 8, None)
    body = {"items": [{"ticket_type_id": free["ticket_types"][0]["id"], "quantity": 1}]}
    unqueued, unqueued_wall = await loadgen.run(base, [
        Job("POST", f"/api/events/{free['id']}/holds", body, t) for t in tokens],
        args.concurrency)
    # Low enough that arrivals at ten times the admissions fit beside the sale's own reads
    # and holds on the generator's and server's shared cores (--admit-per-minute).
    per_minute = args.admit_per_minute
    ev = await event(base, admin, "Bench queued on-sale", len(tokens) * 8, {
        "enabled": True, "opens_at": iso(now_ms()), "admit_per_minute": per_minute})
    path = f"/api/events/{ev['id']}/queue"
    hold_body = {"items": [{"ticket_type_id": ev["ticket_types"][0]["id"], "quantity": 1}]}
    places: dict[int, str] = {}  # place -> bearer token
    holds: list[tuple[float, Result]] = []  # (seconds into the sale, answer)
    arrived: list[float] = []  # seconds into the sale of each join's answer
    pending = iter(tokens)
    start = time.perf_counter()
    end = start + args.seconds

    async def arrivals() -> None:
        """A stream of visitors: each worker joins a few at a time on one connection."""
        while time.perf_counter() < end and (batch := [t for _, t in zip(range(4), pending,
                                                                          strict=False)]):
            t0 = time.perf_counter() - start
            results, _ = await loadgen.run(base, [Job("POST", path, token=t) for t in batch], 1)
            for token, r in zip(batch, results, strict=True):
                places[int(r.json()["place"])] = token
                arrived.append(t0 + r.finished_s)

    async def serve(ready: list[str]) -> None:
        """Admitted buyers read their place (the token) and hold at once."""
        t0 = time.perf_counter() - start
        looks, _ = await loadgen.run(base, [Job("GET", path, token=t) for t in ready],
                                     min(len(ready), 8))
        results, _ = await loadgen.run(base, [
            Job("POST", f"/api/events/{ev['id']}/holds", hold_body, t,
                (("X-Queue-Token", look.json()["token"] or ""),))
            for t, look in zip(ready, looks, strict=True)], min(len(ready), 8))
        holds.extend((t0 + r.finished_s, r) for r in results)

    async def admitted_buyers() -> None:
        served, tasks = 0, []
        while time.perf_counter() < end:
            await asyncio.sleep(0.25)  # how often waiting pages look (here: the organiser's figure)
            stats = (await one(base, Job("GET", f"/api/admin/events/{ev['id']}/queue",
                                         token=admin))).json()
            ready = [places[p] for p in range(served + 1, stats["admitted"] + 1) if p in places]
            served += len(ready)
            if ready:
                tasks.append(asyncio.create_task(serve(ready)))
        await asyncio.gather(*tasks)

    await asyncio.gather(*(arrivals() for _ in range(args.concurrency // 4 or 1)),
                         admitted_buyers())
    window = max(arrived, default=0.0)  # while visitors were still arriving
    during = [r for t, r in holds if t <= window]
    buckets: dict[int, int] = {}
    for t, _ in holds:
        buckets[int(t)] = buckets.get(int(t), 0) + 1
    no_token, _ = await loadgen.run(base, [Job("POST", f"/api/events/{ev['id']}/holds",
                                               hold_body, tokens[-1])], 1)
    lat = [r.latency_s * 1000 for _, r in holds]
    return {
        "hold_capacity_without_queue": summary(unqueued, unqueued_wall),
        "admit_per_minute": per_minute,
        "arrival_window_s": round(window, 1),
        "arrivals": len(arrived),
        "arrivals_per_s": round(len(arrived) / max(window, 1e-9), 1),
        "arrivals_to_admissions_ratio": round(
            len(arrived) / max(window, 1e-9) / (per_minute / 60), 1),
        "holds_per_s_while_arriving": round(len(during) / max(window, 1e-9), 1),
        "holds": len(holds),
        "hold_statuses": {str(s): sum(1 for _, r in holds if r.status == s)
                          for s in sorted({r.status for _, r in holds})},
        "hold_p50_ms": round(percentile(lat, 50), 1) if lat else None,
        "hold_p99_ms": round(percentile(lat, 99), 1) if lat else None,
        "peak_holds_in_one_second": max(buckets.values(), default=0),
        "hold_without_token_status": no_token[0].status,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="leap-bench-wr-"))
    procs = []
    redis_server = RedisServer(tmp / "redis", appendonly=True)
    redis_url = redis_server.start()
    env = {**os.environ, "REDIS_URL": redis_url, "LEAP_DATA_DIR": str(tmp / "data"),
           "SEED_DEMO": "false", "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "1024",
           "ARGON2_PARALLELISM": "1", "ADMIN_PASSWORD": PASSWORD,
           "RATE_AUTH_PER_IP": "1000000/1", "RATE_HOLDS_PER_USER": "1000000/1",
           "RATE_HOLDS_PER_USER_EVENT": "1000000/1", "RATE_CHECKOUT_PER_USER": "1000000/1"}
    try:
        port, bare_port = free_port(), free_port()
        base, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
        procs.append(spawn([sys.executable, "-m", "shared.local"], {**env, "PORT": str(port)}))
        procs.append(spawn([sys.executable, str(ROOT / "bench" / "bare_queue_app.py"),
                            str(bare_port)], {**env, "BARE_EVENT_ID": "bare-queue-event",
                                              "PYTHONPATH": str(ROOT)}))
        await wait_http(f"{base}/api/health", procs[0])
        await wait_http(bare, procs[1])
        from redis.asyncio import Redis

        from shared.adapters.redis_waiting_room import RedisWaitingRoom
        r = Redis.from_url(redis_url, decode_responses=True)
        await RedisWaitingRoom(r).configure("bare-queue-event", now_ms(),
                                            now_ms() + 3_600_000, 60)
        await r.aclose()
        admin = (await one(base, Job("POST", "/api/auth/login", {
            "email": "admin@example.com", "password": PASSWORD}))).json()["token"]
        tokens = await buyers(base, args.visitors, args.concurrency)
        out: dict[str, Any] = {"visitors": args.visitors, "concurrency": args.concurrency}
        out["reads"] = await floor_vs_api(base, bare, admin, tokens, args.concurrency)
        out["flash_sale_with_queue"] = await queued_sale(base, admin, tokens, args)
        return out
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=2000, help="distinct accounts")
    parser.add_argument("--seconds", type=float, default=15.0, help="queued sale duration")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--admit-per-minute", type=int, default=600,
                        help="admission rate of the queued sale")
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    args = parser.parse_args()
    if args.smoke:
        args.visitors, args.seconds, args.concurrency = 100, 3.0, 16
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))
    sale = result["flash_sale_with_queue"]
    if sale["hold_without_token_status"] != 403:
        raise SystemExit("a hold without an admission token was not refused")
    if any(s not in ("200", "201") for part in ("api_join", "api_position")
           for s in result["reads"][part]["statuses"]):
        raise SystemExit(f"queue requests failed: {result['reads']}")


if __name__ == "__main__":
    main()
