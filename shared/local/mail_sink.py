"""The local host's SMTP sink (aiosmtpd): every message it receives is kept as an ``.eml``
file under ``<data dir>/mail/``, named by arrival, so duplicates would show as two files."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class _Keep:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._seq = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        name = f"{time.time_ns()}-{next(self._seq):05d}.eml"
        tmp = self.folder / f".{name}.tmp"
        data = envelope.original_content or b""
        tmp.write_bytes(data if isinstance(data, bytes) else data.encode())
        tmp.rename(self.folder / name)  # readers never see half a message
        return "250 Message accepted"


class MailSink:
    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 2525) -> None:
        self.folder = folder
        self.host = host
        self.port = port
        self._controller: Controller | None = None

    def start(self) -> MailSink:
        self.folder.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"hostname": self.host, "port": self.port}
        self._controller = Controller(_Keep(self.folder), **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
