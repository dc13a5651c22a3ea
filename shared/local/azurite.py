"""Azurite's blob service as a child process, for ``make run`` and the tests: event images in
a real Azure Storage protocol server (``tools/azurite``, installed by the Makefile), with its
data under ``$LEAP_DATA_DIR/azurite``."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from shared.local.ports import free_port
from shared.local.redis_server import _die_with_parent

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's published development account and key (the same in every Azurite): not a secret.
ACCOUNT = "devstoreaccount1"
DEV_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw"
           "==")


class Azurite:
    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def installed() -> bool:
        return BINARY.exists()

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={DEV_KEY};"
                f"BlobEndpoint=http://127.0.0.1:{self.port}/{ACCOUNT};")

    def start(self, timeout: float = 30.0) -> str:
        if not self.installed():
            raise RuntimeError(f"{BINARY} missing: `make run` installs tools/azurite (npm)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "azurite.log").open("ab")
        self.process = subprocess.Popen(
            [str(BINARY), "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
             "--location", str(self.data_dir.resolve()), "--skipApiVersionCheck",
             "--silent"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 (only calls prctl)
            start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"azurite exited ({self.process.returncode}); see "
                                   f"{self.data_dir / 'azurite.log'}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self.connection_string
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"azurite did not listen on port {self.port}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
