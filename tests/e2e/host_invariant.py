"""The inventory invariant of a running local host: a runtime on the host's own redis-server
(found through its child process) and data directory."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shared.local.redis_server import RedisServer
from shared.runtime import build_runtime
from shared.settings import Settings
from tests.e2e.conftest import Host
from tests.e2e.test_local_host import _redis_children
from tests.support import assert_invariant


def redis_port(host: Host) -> int:
    (child,) = _redis_children(host.process.pid)
    # redis-server retitles itself "redis-server 127.0.0.1:<port>".
    title = Path(f"/proc/{child}/cmdline").read_bytes().decode()
    match = re.search(r"127\.0\.0\.1:(\d+)", title)
    assert match, title
    return int(match.group(1))


def assert_host_invariant(host: Host, data_dir: Path, event_id: str) -> None:
    settings = Settings().with_(data_dir=data_dir,
                                redis_url=RedisServer(data_dir, port=redis_port(host)).url)

    async def check() -> None:
        rt = build_runtime(settings)
        try:
            await assert_invariant(rt, event_id)
        finally:
            await rt.close()

    # In a thread of its own: a test driving Playwright's sync API has a loop running here.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, check()).result()
