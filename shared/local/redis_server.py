"""A ``redis-server`` child process on a free loopback port (the local host and the tests).

The child runs in its own session, so a Ctrl-C in the terminal reaches the host alone and the
host stops redis last, after its consumers. It is also told to die with its parent
(PR_SET_PDEATHSIG), so a killed host leaves no orphan. ``stop`` asks it to shut down
(flushing the AOF) and waits.
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from shared.local.ports import free_port

MISSING = ("redis-server is not installed. Run `make setup` (as root it installs the Debian "
           "package), or install it yourself: apt-get install redis-server")


def _die_with_parent() -> None:
    with contextlib.suppress(OSError):  # not Linux/glibc: only the orphan guard is lost
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    def __init__(self, data_dir: Path, *, port: int | None = None, appendonly: bool = True,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.appendonly = appendonly
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(MISSING)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.data_dir.resolve()), "--save", "",
                "--appendonly", "yes" if self.appendonly else "no",
                "--protected-mode", "yes", "--loglevel", "warning",
                "--logfile", str((self.data_dir / "redis.log").resolve()),
                *self.extra_args]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        # Only calls prctl, which is async-signal-safe.
                                        preexec_fn=_die_with_parent,  # noqa: PLW1509
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited ({self.process.returncode}); "
                                   f"see {self.data_dir / 'redis.log'}")
            if ping(self.port):
                return self.url
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # redis shuts down cleanly on SIGTERM (AOF fsync)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """Stop abruptly, as a crash would (tests of recovery)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
