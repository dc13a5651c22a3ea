"""Catalog-read benchmark: event-detail requests against the local stack with a warm cache,
beside a bare ASGI endpoint returning the same bytes, in the same run; plus how many reads
reached the catalog store per 1,000 requests.

Starts its own redis-server and ``python -m shared.local`` (with a store-read counter), so it
needs no running stack. Prints one JSON document.

    python bench/catalog_reads.py --requests 5000 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from redis.asyncio import Redis  # noqa: E402

from bench import loadgen  # noqa: E402
from bench.flash_sale import PASSWORD, spawn, summary, wait_http  # noqa: E402
from bench.loadgen import Job  # noqa: E402
from shared.adapters.redis_catalog_cache import STORE_READS  # noqa: E402
from shared.local.ports import free_port  # noqa: E402
from shared.local.redis_server import RedisServer  # noqa: E402

BARE = '''
import sys, uvicorn
BODY = open(sys.argv[2], "rb").read()
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False,
            lifespan="off")
'''


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="leap-catalog-bench-"))
    redis = RedisServer(tmp / "redis", appendonly=False)
    redis_url = redis.start()
    env = {**os.environ, "REDIS_URL": redis_url, "LEAP_DATA_DIR": str(tmp / "data"),
           "SEED_DEMO": "true", "ADMIN_PASSWORD": PASSWORD,
           "WORKERS": "1"}  # one API process, like the bare endpoint it is compared with
    counter = Redis.from_url(redis_url, decode_responses=True)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        procs.append(spawn([sys.executable, "-m", "shared.local"], {**env, "PORT": str(port)}))
        await wait_http(f"{base}/api/health", procs[-1])
        (listing,), _ = await loadgen.run(base, [Job("GET", "/api/events")], 1)
        event_id = listing.json()["items"][0]["id"]
        path = f"/api/events/{event_id}"
        (first,), _ = await loadgen.run(base, [Job("GET", path)], 1)  # warms the cache
        before = int(await counter.get(STORE_READS) or 0)
        results, wall = await loadgen.run(base, [Job("GET", path)] * args.requests,
                                          args.concurrency)
        reads = int(await counter.get(STORE_READS) or 0) - before

        body_file = tmp / "body.json"
        body_file.write_bytes(first.body)
        bare_port = free_port()
        script = tmp / "bare.py"
        script.write_text(BARE)
        procs.append(spawn([sys.executable, str(script), str(bare_port), str(body_file)], env))
        await wait_http(f"http://127.0.0.1:{bare_port}", procs[-1])
        bare, bare_wall = await loadgen.run(f"http://127.0.0.1:{bare_port}",
                                            [Job("GET", "/")] * args.requests, args.concurrency)
        detail = summary(results, wall)
        bare_stats = summary(bare, bare_wall)
        return {
            "requests": args.requests, "concurrency": args.concurrency,
            "body_bytes": len(first.body),
            "event_detail_warm_cache": detail,
            "bare_asgi_same_bytes": bare_stats,
            "api_to_bare_throughput_ratio": round(
                detail["requests_per_s"] / bare_stats["requests_per_s"], 3),
            "store_reads_per_1000_requests": round(reads * 1000 / args.requests, 3),
        }
    finally:
        await counter.aclose()
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        redis.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    args = parser.parse_args()
    if args.smoke:
        args.requests, args.concurrency = 300, 16
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
