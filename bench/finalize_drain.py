"""Finalize drain benchmark: pre-queue N payment messages, then time how fast the payments
consumer turns them into confirmed orders in the local SQLite ledger.

Starts its own redis-server, builds the runtime in this process, creates an event of N
tickets, takes N one-ticket holds and checks each out (which queues N messages on the
payments stream), then runs the stream consumer (batches of ``--batch``) until every order
is in the ledger. Prints one JSON document: orders/s, the ledger's sold count, charges, and
oversold (must be 0).

    python bench/finalize_drain.py --messages 10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.adapters.redis_stream_bus import StreamConsumer  # noqa: E402
from shared.adapters.simulated_gateway import SimulatedGateway  # noqa: E402
from shared.local.redis_server import RedisServer  # noqa: E402
from shared.models import LineItem, Principal, User, Venue, now_ms  # noqa: E402
from shared.runtime import Runtime, build_runtime  # noqa: E402
from shared.services.catalog import EventDraft, TicketTypeDraft  # noqa: E402
from shared.settings import Settings  # noqa: E402

WIDE = "1000000000/1"  # rate limits out of the way: this measures finalize


async def queue_payments(rt: Runtime, messages: int, buyers: int = 100) -> str:
    """An event of ``messages`` tickets, sold one per hold and checked out; returns its id."""
    per_buyer = -(-messages // buyers)
    event = await rt.catalog.create_event(EventDraft(
        name="Drain bench", description="", category="music",
        starts_at=datetime.now(UTC) + timedelta(days=30),
        venue=Venue("", "Bench Hall", "Bench", "", ""), currency="EUR",
        per_user_limit=per_buyer,
        ticket_types=(TicketTypeDraft("GA", 5000, messages),)))
    principals = []
    for n in range(buyers):
        user = User(id=uuid.uuid4().hex, email=f"drain{n}@bench.example", display_name="B",
                    role="user", password_hash="-", created_at=now_ms())
        await rt.ledger.add_user(user)
        principals.append(Principal(user.id, user.email, "B", "user", now_ms() + 3_600_000))
    ga = event.ticket_types[0].id

    async def buy(n: int) -> None:
        user = principals[n % buyers]
        hold = await rt.holds.create(user, event.id, [LineItem(ga, 1)])
        await rt.checkout.checkout(user, hold.id, "tok_visa")

    for start in range(0, messages, 200):
        await asyncio.gather(*(buy(n) for n in range(start, min(messages, start + 200))))
    return event.id


async def drain(rt: Runtime, messages: int, batch: int, consumers: int) -> float:
    """Run ``consumers`` stream consumers until the stream is empty; returns seconds."""
    members = [StreamConsumer(rt.redis, rt.stream_names, rt.finalizer.handle_batch,
                              consumer=f"drain-{i}", batch=batch, block_ms=100,
                              max_delivery_count=rt.settings.max_delivery_count,
                              redelivery_ms=rt.settings.redelivery_ms)
               for i in range(consumers)]
    await members[0].ensure_group()
    stop = asyncio.Event()
    started = time.perf_counter()
    tasks = [asyncio.create_task(m.run(stop)) for m in members]
    try:
        while True:
            info: Any = await rt.redis.xinfo_groups(rt.stream_names.stream)
            group = info[0]
            if int(group["lag"] or 0) == 0 and int(group["pending"]) == 0:
                return time.perf_counter() - started
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="leap-drain-"))
    redis_server = RedisServer(tmp / "redis", appendonly=True)
    env = {"REDIS_URL": redis_server.start(), "LEAP_DATA_DIR": str(tmp / "data"),
           "SEED_DEMO": "false", "RATE_HOLDS_PER_USER": WIDE,
           "RATE_HOLDS_PER_USER_EVENT": WIDE, "RATE_CHECKOUT_PER_USER": WIDE}
    rt = build_runtime(Settings.from_env(env))
    try:
        await rt.migrate()
        t0 = time.perf_counter()
        event_id = await queue_payments(rt, args.messages)
        queued_s = time.perf_counter() - t0
        seconds = await drain(rt, args.messages, args.batch, args.consumers)
        (line,) = await rt.ledger.inventory(event_id)
        assert isinstance(rt.gateway, SimulatedGateway)
        charges = rt.gateway.stats()
        return {
            "messages": args.messages, "batch": args.batch, "consumers": args.consumers,
            "queue_setup_s": round(queued_s, 2), "drain_s": round(seconds, 3),
            "orders_per_s": round(line.sold / seconds, 1), "sold_in_ledger": line.sold,
            "charges": charges, "oversold": max(0, line.sold - line.capacity),
        }
    finally:
        await rt.close()
        redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=Settings().consumer_concurrency)
    parser.add_argument("--consumers", type=int, default=1,
                        help="stream consumers in this process")
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    args = parser.parse_args()
    if args.smoke:
        args.messages = 300
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))
    if result["oversold"] or result["sold_in_ledger"] != args.messages:
        raise SystemExit("drain incomplete or oversold")


if __name__ == "__main__":
    main()
