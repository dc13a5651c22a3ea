"""Test helpers: a controllable clock, event and buyer factories, the live stack in a thread,
and the inventory invariant of DESIGN.md that every purchase-path test ends with."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import redis

from shared.adapters.redis_catalog_cache import CHANNEL as CATALOG_CHANNEL
from shared.adapters.redis_order_notices import CHANNEL as ORDER_NOTICES_CHANNEL
from shared.adapters.redis_sessions import CHANNEL as REVOCATION_CHANNEL
from shared.adapters.sql_console import SqlConsole
from shared.adapters.sql_door import SqlDoor
from shared.local.ports import free_port
from shared.local.stack import LocalStack
from shared.models import Event, OrderPage, Principal, Venue, now_ms
from shared.ports_console import with_refunds
from shared.runtime import Runtime, build_runtime
from shared.services.catalog import EventDraft, TicketTypeDraft
from shared.settings import Settings


class Clock:
    """A clock the test moves by hand (epoch ms)."""

    def __init__(self) -> None:
        self.now = now_ms()

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> int:
        self.now += int(seconds * 1000)
        return self.now

    def catch_up(self) -> int:
        """Move to real time if behind it: for tests whose Redis state a server on real time
        (the live stack) also wrote, since this clock stood still from the fixture on."""
        self.now = max(self.now, now_ms())
        return self.now


async def make_event(rt: Runtime, capacities: Mapping[str, int], *, price: int = 1000,
                     per_user_limit: int | None = None, name: str = "Test night",
                     city: str = "Lisbon", days_ahead: int = 10) -> Event:
    return await rt.catalog.create_event(EventDraft(
        name=name, description="a test event", category="music",
        starts_at=datetime.now(UTC) + timedelta(days=days_ahead),
        venue=Venue("", "Test Hall", city, "1 Test St", "Portugal"), currency="EUR",
        per_user_limit=per_user_limit,
        ticket_types=tuple(TicketTypeDraft(n, price, c) for n, c in capacities.items()),
    ))


def type_id(event: Event, name: str) -> str:
    return next(t.id for t in event.ticket_types if t.name == name)


_counter = iter(range(1, 10**9))


async def make_buyer(rt: Runtime, role: str = "user") -> tuple[str, Principal]:
    """Register and log in a fresh buyer; returns (bearer token, principal)."""
    email = f"buyer{next(_counter)}-{now_ms()}@example.com"
    await rt.accounts.register(email, "correct horse battery", "Buyer", role=role)
    return await rt.accounts.login(email, "correct horse battery")


async def assert_order_page_reads_as_three(rt: Runtime, order_id: str) -> OrderPage:
    """The order page's one ledger read (``order_page``) answers what its three reads did:
    the order, its refunds applied (``with_refunds``) and its tickets' check-ins."""
    page, order = await rt.ledger.order_page(order_id), await rt.ledger.get_order(order_id)
    assert page is not None and order is not None
    states = await SqlConsole(rt.ledger).refund_states([order_id])
    assert page.order == with_refunds(order, states.get(order_id))
    assert page.checked_in == await SqlDoor(rt.ledger).checkins_of([t.id for t in order.tickets])
    return page


async def assert_invariant(rt: Runtime, event_id: str) -> None:
    """available + active hold quantities + sold == capacity, and available >= 0, per type.

    Both stores count (issue 12): Redis's available and active holds, and the ledger's
    tickets in active SQL holds (degraded mode); and ``sold <= capacity`` in the ledger.
    ``available >= 0`` and ``sold <= capacity`` must hold at every look. The sum is read
    from two stores that finalize updates one after the other (the ledger, then the hold in
    Redis, a moment later), so it is waited for: it must come true once work in flight
    lands, and a real leak or oversell never does."""
    problem = ""

    async def balanced() -> bool:
        nonlocal problem
        lines = await rt.ledger.inventory(event_id)
        available = await rt.store.availability(event_id)
        assert available is not None, "inventory not loaded"
        active: dict[str, int] = {}
        for hold in await rt.store.active_holds(event_id):
            for item in hold.items:
                active[item.ticket_type_id] = active.get(item.ticket_type_id, 0) + item.quantity
        assert lines, "event has no ledger inventory"
        problem = ""
        for line in lines:
            a = available[line.ticket_type_id]
            h = active.get(line.ticket_type_id, 0)
            assert a >= 0, f"{line.ticket_type_id}: available {a} < 0"
            assert line.sold <= line.capacity, f"{line.ticket_type_id}: oversold"
            if a + h + line.held_sql + line.sold != line.capacity:
                problem = (f"{line.ticket_type_id}: available {a} + held {h} + held in SQL "
                           f"{line.held_sql} + sold {line.sold} != capacity {line.capacity}")
        return not problem

    try:
        await wait_until(balanced, "the inventory invariant")
    except AssertionError:
        raise AssertionError(problem) from None


# How long a test waits for background work (pub/sub, consumers, the reconciler) before it
# calls it hung. Only a bound for a hang: a passing test waits for its condition, not this.
WAIT_SECONDS = 60.0


async def wait_until(check: Callable[[], Awaitable[bool]], what: str,
                     within: float = WAIT_SECONDS, interval: float = 0.02) -> None:
    """Poll ``check`` until it is true; fail naming ``what`` after ``within`` seconds.
    Tests wait for the condition that background work brings about, never for a fixed time,
    so they pass on a fast machine and on a busy one alike."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {within:g} s")
        await asyncio.sleep(interval)


# What each app instance subscribes to.
LIVE_CHANNELS = (REVOCATION_CHANNEL, CATALOG_CHANNEL, ORDER_NOTICES_CHANNEL)


@dataclass
class Live:
    """The local stack (API + consumers + reconciler) served over real HTTP in a thread."""

    settings: Settings
    static_dir: Path | None = None
    # The stack's clock (epoch ms); None: the real one. Tests pass their Clock to move time.
    clock: Callable[[], int] | None = None
    base_url: str = ""
    _stack: LocalStack | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _error: BaseException | None = None

    def start(self) -> Live:
        subscribers_before = self._subscribers()
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        ready = threading.Event()

        async def main() -> None:
            rt = build_runtime(self.settings, clock=self.clock or now_ms)
            try:
                await rt.migrate()
                self._stack = LocalStack(rt, host="127.0.0.1", port=port,
                                         static_dir=self.static_dir, reconcile_interval=0.2)
                self._loop = asyncio.get_running_loop()
                ready.set()
                await self._stack.run()
            finally:
                await rt.close()

        def run() -> None:
            try:
                asyncio.run(main())
            except BaseException as exc:
                self._error = exc
                ready.set()

        self._thread = threading.Thread(target=run, name="live-stack", daemon=True)
        self._thread.start()
        ready.wait(30)
        deadline = time.monotonic() + WAIT_SECONDS
        # Started means serving and subscribed: tests publish revocations and catalog
        # invalidations from their own runtime right away, and a message sent before the
        # subscription exists is lost (the in-process copies would then live out their TTL).
        while not (self._stack and self._stack.started
                   and self._subscribed(subscribers_before)):
            if self._error or time.monotonic() > deadline:
                raise RuntimeError(f"live stack did not start: {self._error!r}")
            time.sleep(0.02)
        return self

    def _subscribers(self) -> dict[str, int]:
        with redis.Redis.from_url(self.settings.redis_url, decode_responses=True) as client:
            return {str(name): int(count)
                    for name, count in client.pubsub_numsub(*LIVE_CHANNELS)}

    def _subscribed(self, before: dict[str, int]) -> bool:
        now = self._subscribers()
        return all(now[channel] > before[channel] for channel in LIVE_CHANNELS)

    def stop(self) -> None:
        if self._loop and self._stack:
            self._loop.call_soon_threadsafe(self._stack.stop)
        if self._thread:
            self._thread.join(30)

    def client(self, token: str | None = None, **kwargs: object) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        # A burst of requests queues for the pool's connections: that wait has no bound of
        # its own (it lasts as long as the requests ahead take on this machine); a request
        # in flight still fails after WAIT_SECONDS if the server hangs. No keep-alive: the
        # server closes a connection idle for 5 s by its own clock, and a client starved on
        # a busy machine counts idleness from later, so it could send a request into a
        # connection the server is closing (a POST then fails with ReadError).
        return httpx.AsyncClient(base_url=self.base_url, headers=headers,
                                 timeout=httpx.Timeout(WAIT_SECONDS, pool=None),
                                 limits=httpx.Limits(max_connections=200,
                                                     max_keepalive_connections=0),
                                 **kwargs)  # type: ignore[arg-type]
