"""The local host's HTTP protocol (``shared/local/http_protocol.py``) on a real uvicorn server
and real sockets: a response's head and body leave in one write, and a response whose body
comes later (streamed) still gets its head out at once; HEAD and keep-alive work."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from shared.local.http_protocol import HeadWithBodyProtocol
from shared.local.ports import free_port
from tests.support import wait_until

STREAM_GO = asyncio.Event()
DATA_SEGS_IN = 152  # offset of tcpi_data_segs_in in struct tcp_info (Linux 4.6+)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/stream":  # the head first; the body once the test says so
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"transfer-encoding", b"chunked")]})
        await STREAM_GO.wait()
        await send({"type": "http.response.body", "body": b"late", "more_body": False})
        return
    body = b'{"ok":true}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    chosen = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=chosen,
                                           http=HeadWithBodyProtocol, lifespan="off",
                                           log_level="warning"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await wait_until(started, "uvicorn to listen")
    yield chosen
    server.should_exit = True
    await task


async def _read_response(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    return head + await reader.readexactly(length)


def _data_segments_in(writer: asyncio.StreamWriter) -> int:
    """Data segments this socket has received (Linux TCP_INFO ``tcpi_data_segs_in``)."""
    info = writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return int(struct.unpack_from("I", info, DATA_SEGS_IN)[0])


async def test_head_and_body_leave_in_one_write(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        before = _data_segments_in(writer)
        for _ in range(5):  # keep-alive: every response of the connection
            writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            assert (await _read_response(reader)).endswith(b'{"ok":true}')
        # One write per response is one loopback segment (uvicorn's own protocol: two).
        assert _data_segments_in(writer) - before == 5
        writer.write(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"content-length: 11" in head
        writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")  # nothing of HEAD's left over
        assert (await _read_response(reader)).endswith(b'{"ok":true}')
    finally:
        writer.close()


async def test_a_streamed_head_is_not_held_back_for_its_body(port: int) -> None:
    STREAM_GO.clear()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")  # before the body exists
        STREAM_GO.set()
        assert await asyncio.wait_for(reader.readuntil(b"0\r\n\r\n"), 10) == (
            b"4\r\nlate\r\n0\r\n\r\n")
    finally:
        writer.close()
