"""Free ports are never handed out twice on one machine, even to different processes, and
never come from the range the kernel uses for ``bind(0)`` and outgoing connections (CI once
gave a host's redis-server the port its test had just chosen for the mail sink)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from shared.local import ports
from shared.local.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
ASK = "from shared.local.ports import free_port\nprint(*(free_port() for _ in range(40)))"


def ephemeral_start() -> int:
    return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])


def test_ports_come_from_below_the_ephemeral_range_and_bind() -> None:
    candidates = ports._candidates(65536)
    if ephemeral_start() - ports._LOWEST >= 1000:  # else all unprivileged ports are used
        assert candidates == range(ports._LOWEST, ephemeral_start())
    for _ in range(20):
        port = free_port()
        assert port in candidates
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_a_port_the_kernel_would_give_again_is_not_given_again() -> None:
    """Nothing binds these ports in between, so only the reservation keeps them apart."""
    given = [free_port() for _ in range(200)]
    assert len(set(given)) == len(given)


def test_processes_asking_at_once_never_share_a_port() -> None:
    askers = [subprocess.Popen([sys.executable, "-c", ASK], cwd=ROOT, stdout=subprocess.PIPE,
                               text=True) for _ in range(4)]
    given = [int(p) for asker in askers for p in asker.communicate(timeout=60)[0].split()]
    assert all(asker.returncode == 0 for asker in askers)
    assert len(given) == 160 and len(set(given)) == 160


def test_a_bound_port_is_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        taken = s.getsockname()[1]
        monkeypatch.setattr(ports, "_candidates", lambda below: range(taken, taken + 1))
        with pytest.raises(RuntimeError, match="no free loopback port"):
            free_port()


def test_a_narrow_limit_still_gives_ports_under_it() -> None:
    """The cluster's nodes also use port + 10000, so they ask for ports under a limit."""
    assert all(free_port(below=20000) < 20000 for _ in range(20))
