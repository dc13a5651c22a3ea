"""Which address the per-address limits count, over real HTTP (issue 17, item 2): the app
alone decides. With no trusted proxy, X-Forwarded-For is ignored however it rotates; with N
trusted hops, the N-th entry from the right counts and nothing a client writes left of it
can move the caller into another bucket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.settings import Rate, Settings
from tests.support import Live

LOGIN = {"email": "nobody@example.com", "password": "whatever-it-is"}


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return settings.with_(rate_auth_per_ip=Rate(3, 60_000), login_lockout=Rate(1000, 60_000))


def _serve(settings: Settings) -> Iterator[Live]:
    stack = Live(settings).start()
    yield stack
    stack.stop()


@pytest.fixture
def no_proxy(limited: Settings) -> Iterator[Live]:
    yield from _serve(limited)


@pytest.fixture
def one_hop(limited: Settings) -> Iterator[Live]:
    yield from _serve(limited.with_(forwarded_hops=1))


@pytest.fixture
def two_hops(limited: Settings) -> Iterator[Live]:
    yield from _serve(limited.with_(forwarded_hops=2))


async def _statuses(live: Live, path: str, forwarded: list[str]) -> list[int]:
    async with live.client() as client:
        return [(await client.post(path, json=LOGIN if path.endswith("login") else {
            "email": f"new{i}@example.com", "password": "a long enough secret",
            "display_name": "New"}, headers={"x-forwarded-for": f})).status_code
            for i, f in enumerate(forwarded)]


async def test_a_rotating_forged_header_is_ignored_without_a_trusted_proxy(
        no_proxy: Live) -> None:
    forged = [f"198.51.100.{i}" for i in range(1, 6)]
    assert await _statuses(no_proxy, "/api/auth/login", forged) == [401, 401, 401, 429, 429]
    registered = await _statuses(no_proxy, "/api/auth/register",
                                 [f"203.0.113.{i}" for i in range(1, 6)])
    assert registered == [201, 201, 201, 429, 429]


async def test_with_one_hop_the_address_the_proxy_appended_counts(
        one_hop: Live) -> None:
    # The client forges everything left of the proxy's entry; the proxy saw 192.0.2.10.
    forged = [f"198.51.100.{i}, 192.0.2.10" for i in range(1, 6)]
    assert await _statuses(one_hop, "/api/auth/login", forged) == [401, 401, 401, 429, 429]
    # Another caller behind the same proxy has a bucket of its own ...
    assert await _statuses(one_hop, "/api/auth/login", ["192.0.2.11"]) == [401]
    # ... and a port or IPv6 brackets on the proxy's entry name the same address.
    assert await _statuses(one_hop, "/api/auth/login", ["192.0.2.10:51000"]) == [429]
    assert await _statuses(one_hop, "/api/auth/login",
                           ["[2001:db8::1]:443", "2001:db8::1", "2001:DB8::1", "x, 2001:db8::1"]
                           ) == [401, 401, 401, 429]


async def test_with_two_hops_the_second_entry_from_the_right_counts(
        two_hops: Live) -> None:
    forged = [f"198.51.100.{i}, 192.0.2.20, 10.0.0.{i}" for i in range(1, 6)]
    assert await _statuses(two_hops, "/api/auth/login", forged) == [401, 401, 401, 429, 429]
    # Fewer entries than proxies: not what the proxies send, so the peer address counts.
    assert await _statuses(two_hops, "/api/auth/login",
                           ["192.0.2.30", "192.0.2.31", "192.0.2.32", "192.0.2.33"]
                           ) == [401, 401, 401, 429]


def test_trust_forwarded_for_is_one_hop_and_forwarded_hops_wins() -> None:
    from shared.api.deps import proxy_hops

    assert proxy_hops(Settings.from_env({})) == 0
    assert proxy_hops(Settings.from_env({"TRUST_FORWARDED_FOR": "true"})) == 1
    assert proxy_hops(Settings.from_env({"TRUST_FORWARDED_FOR": "true",
                                         "FORWARDED_HOPS": "0"})) == 0
    assert proxy_hops(Settings.from_env({"FORWARDED_HOPS": "2"})) == 2
    with pytest.raises(ValueError, match="FORWARDED_HOPS"):
        Settings.from_env({"FORWARDED_HOPS": "-1"})
