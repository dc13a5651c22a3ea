"""Fixtures that start real servers: one redis-server per session (flushed per test), a
fresh SQLite ledger and catalog per test, and, on request, the live stack over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from shared.local.ports import free_port
from shared.local.redis_server import RedisServer
from shared.runtime import Runtime, build_runtime
from shared.settings import Rate, Settings
from tests.support import Clock, Live


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"), appendonly=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(redis_server: RedisServer, tmp_path: Path) -> Settings:
    redis.Redis.from_url(redis_server.url).flushall()
    return Settings().with_(
        data_dir=tmp_path / "data",
        redis_url=redis_server.url,
        # Cheap hashing keeps the suite fast; production parameters come from settings.
        argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1,
        max_delivery_count=3, redelivery_ms=150, seed_demo=False,
        # Emails go to a port of this test's own (a test that reads them starts a sink there).
        smtp_host="127.0.0.1", smtp_port=free_port(), mail_interval_seconds=0.2,
        # Limits high enough that only the tests about limits meet them. The windows are
        # long on purpose: a request takes its ``now`` before it waits (for the event loop,
        # for a Redis connection), so under load requests of one buyer reach the bucket out
        # of time order, and GCRA forgives that only up to one window (1 s refused some of
        # 200 concurrent holds on a busy machine).
        rate_auth_per_ip=Rate(10_000, 60_000), rate_holds_per_user=Rate(10_000, 60_000),
        rate_holds_per_user_event=Rate(10_000, 60_000),
        rate_checkout_per_user=Rate(10_000, 60_000), login_lockout=Rate(100, 60_000),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def rt(settings: Settings, clock: Clock) -> AsyncIterator[Runtime]:
    runtime = build_runtime(settings, clock=clock)
    await runtime.migrate()
    yield runtime
    await runtime.close()


@pytest.fixture
async def live(settings: Settings, rt: Runtime) -> AsyncIterator[Live]:
    """The stack served over HTTP on a free port; ``rt`` shares its Redis and files."""
    stack = Live(settings).start()
    yield stack
    stack.stop()


COSMOS_BIN = Path(__file__).resolve().parents[1] / "tools" / "cosmosdb-server" / "node_modules" \
    / ".bin" / "cosmosdb-server"
# The emulators' published, well-known account key: not a secret.
COSMOS_EMULATOR_KEY = ("C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMs"
                       "EcaGQy67XIw/Jw==")


@pytest.fixture(scope="session")
def cosmos_endpoint() -> Iterator[str]:
    """A Cosmos DB protocol server (@vercel/cosmosdb-server, installed by `make test`)."""
    import socket
    import subprocess
    import time

    from shared.local.ports import free_port

    if not COSMOS_BIN.exists():
        pytest.fail(f"{COSMOS_BIN} missing: `make test` installs tools/cosmosdb-server")
    port = free_port()
    proc = subprocess.Popen([str(COSMOS_BIN), "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("cosmosdb-server did not start")
            time.sleep(0.1)
    yield f"https://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)
