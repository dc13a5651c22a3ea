"""Free loopback ports for the local stack, the tests and the benchmarks, never handed out twice.

A port is chosen in one process and bound later, often in another (a test picks the mail
sink's port, and the host it starts binds it a second later, after choosing its own
redis-server port). Asking the kernel for port 0 and letting go of the socket leaves a window
in which the kernel hands the same port to the next ``bind(0)`` or outgoing connection: CI
once gave the host's redis-server the port the test had just chosen for its mail sink.

So ports come from below the kernel's ephemeral range, where neither ``bind(0)`` nor an
outgoing connection ever lands, and every process on the machine records what it hands out
in one reservation file per user, under an exclusive lock, for ``RESERVED_SECONDS``. A
reserved port is skipped until then; one bound by then is skipped because it no longer binds.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not Unix: only the cross-process record is lost
    fcntl = None  # type: ignore[assignment]

# Long enough for any process to bind what it was given (a host starts in seconds).
RESERVED_SECONDS = 600
_LOWEST = 16384
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
# Not the module's generator: pytest-randomly reseeds that one identically for every test.
_random = random.SystemRandom()


def _candidates(below: int) -> range:
    """Ports under ``below`` outside the ephemeral range, or all unprivileged ones if none."""
    try:
        ephemeral_start = int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_start = 32768  # Linux's default
    ports = range(_LOWEST, min(below, ephemeral_start))
    return ports if len(ports) >= 1000 else range(1024, below)


def _binds(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def _reservations() -> Iterator[dict[str, float]]:
    """The machine-wide record {port: expiry}, read and rewritten under an exclusive lock."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    path = Path(tempfile.gettempdir()) / f"leap-ticketing-ports-{uid}.json"
    with open(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+", encoding="utf-8") as f:
        if fcntl is not None:
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            record: dict[str, float] = json.loads(f.read() or "{}")
        except ValueError:  # a writer killed mid-write: the reservations it held are gone
            record = {}
        now = time.time()
        record = {port: expiry for port, expiry in record.items() if expiry > now}
        yield record
        f.seek(0)
        f.truncate()
        f.write(json.dumps(record))
        # Closing the file releases the lock.


def free_port(below: int = 65536) -> int:
    """A free loopback port under ``below`` (a cluster node also uses port + 10000), reserved
    for ``RESERVED_SECONDS`` against every other caller on this machine."""
    ports = _candidates(below)
    with _reservations() as reserved:
        for _ in range(len(ports)):
            port = _random.choice(ports)
            if str(port) not in reserved and _binds(port):
                reserved[str(port)] = time.time() + RESERVED_SECONDS
                return port
    raise RuntimeError(f"no free loopback port in {ports.start}-{ports.stop - 1}")
