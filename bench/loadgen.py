"""A small HTTP/1.1 load generator on raw asyncio streams, for the benchmarks.

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
from typing import Any
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


async def _read(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"transfer-encoding":
            raise ValueError("chunked responses are not supported: send Content-Length")
    return status, await reader.readexactly(length) if length else b""


class Connection:
    """One keep-alive connection sending requests one after another (a buyer's session)."""

    def __init__(self, base_url: str) -> None:
        url = urlsplit(base_url)
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 80
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, job: Job) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self._host, self._port)
        reader, writer = self._streams
        writer.write(_encode(job, f"{self._host}:{self._port}"))
        return await _read(reader)

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def run(base_url: str, jobs: list[Job], concurrency: int) -> tuple[list[Result], float]:
    """Send every job; returns results in job order and the wall time in seconds."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    results: list[Result | None] = [None] * len(jobs)
    next_job = iter(range(len(jobs)))
    start = time.perf_counter()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for index in next_job:
                t0 = time.perf_counter()
                writer.write(_encode(jobs[index], f"{host}:{port}"))
                status, body = await _read(reader)
                t1 = time.perf_counter()
                results[index] = Result(status, t1 - t0, t1 - start, body)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(min(concurrency, len(jobs)))))
    wall = time.perf_counter() - start
    return [r for r in results if r is not None], wall
