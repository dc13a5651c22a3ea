"""A small HTTP/1.1 load generator on a raw asyncio protocol, for the benchmarks.

httpx is a fine client but spends ~5 ms of CPU per request; on a 2-core machine it, not the
server, would set the figures. This keeps ``concurrency`` keep-alive connections open and
sends each job as one request with Content-Length; responses must carry Content-Length
(uvicorn's do). It measures per-request latency and completion time.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Job:
    method: str
    path: str
    body: Any = None
    token: str = ""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Result:
    status: int
    latency_s: float
    finished_s: float
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _encode(job: Job, host: str) -> bytes:
    payload = json.dumps(job.body).encode() if job.body is not None else b""
    head = [f"{job.method} {job.path} HTTP/1.1", f"Host: {host}",
            f"Content-Length: {len(payload)}", "Connection: keep-alive"]
    if payload:
        head.append("Content-Type: application/json")
    if job.token:
        head.append(f"Authorization: Bearer {job.token}")
    head += [f"{name}: {value}" for name, value in job.headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


class _Responses(asyncio.Protocol):
    """The client side of one keep-alive connection: parses responses as bytes arrive, with
    no per-line reads (on a 2-core machine the buyers' CPU is taken from the server's)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._answer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = exc or ConnectionError("connection closed")
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(self._lost)

    def _answer(self) -> None:
        if self._waiter is None or self._waiter.done():
            return
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self._buffer[:end]).lower()
        if b"\r\ntransfer-encoding:" in head:
            self._waiter.set_exception(
                ValueError("chunked responses are not supported: send Content-Length"))
            return
        length, at = 0, head.find(b"\r\ncontent-length:")
        if at >= 0:
            stop = head.find(b"\r\n", at + 2)
            length = int(head[at + 17:stop if stop >= 0 else len(head)])
        if len(self._buffer) < end + 4 + length:
            return
        body = bytes(self._buffer[end + 4:end + 4 + length])
        del self._buffer[:end + 4 + length]
        self._waiter.set_result((int(head[9:12]), body))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        if self._lost is not None:
            raise self._lost
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        self._answer()
        return await self._waiter


async def _connect(host: str, port: int) -> _Responses:
    _, protocol = await asyncio.get_running_loop().create_connection(_Responses, host, port)
    return protocol


class Connection:
    """One keep-alive connection sending requests one after another (a buyer's session)."""

    def __init__(self, base_url: str) -> None:
        url = urlsplit(base_url)
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 80
        self._conn: _Responses | None = None

    async def send(self, job: Job) -> tuple[int, bytes]:
        if self._conn is None:
            self._conn = await _connect(self._host, self._port)
        return await self._conn.exchange(_encode(job, f"{self._host}:{self._port}"))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None


async def run(base_url: str, jobs: list[Job], concurrency: int) -> tuple[list[Result], float]:
    """Send every job; returns results in job order and the wall time in seconds."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    results: list[Result | None] = [None] * len(jobs)
    next_job = iter(range(len(jobs)))
    start = time.perf_counter()

    async def connection() -> None:
        conn = await _connect(host, port)
        try:
            for index in next_job:
                t0 = time.perf_counter()
                status, body = await conn.exchange(_encode(jobs[index], f"{host}:{port}"))
                t1 = time.perf_counter()
                results[index] = Result(status, t1 - t0, t1 - start, body)
        finally:
            conn.close()

    await asyncio.gather(*(connection() for _ in range(min(concurrency, len(jobs)))))
    wall = time.perf_counter() - start
    return [r for r in results if r is not None], wall
