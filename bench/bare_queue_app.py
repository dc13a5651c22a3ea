"""The floor for a waiting-room request: a bare ASGI app whose every POST is one call of
queue_join.lua and every GET one call of queue_status.lua, made through the same adapter
methods the API uses. The visitor is named by the path (``/<user id>``).

No framework, no auth, no catalog read: uvicorn, one Redis round trip and a JSON answer.
``waiting_room.py`` runs it beside the real API and prints the ratios.
Run: ``REDIS_URL=... BARE_EVENT_ID=... python bench/bare_queue_app.py PORT``
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from typing import Any

import uvicorn
from redis.asyncio import Redis

from shared import gc_tuning
from shared.adapters.redis_pool import WaitingConnectionPool
from shared.adapters.redis_waiting_room import RedisWaitingRoom
from shared.local.http_protocol import HeadWithBodyProtocol
from shared.models import now_ms

redis = Redis(connection_pool=WaitingConnectionPool.from_url(
    os.environ["REDIS_URL"], max_connections=256, decode_responses=True))
room = RedisWaitingRoom(redis)
EVENT = os.environ["BARE_EVENT_ID"]
WINDOW_MS = 600_000


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    user = scope["path"].strip("/") or "probe"
    if scope["method"] == "POST":
        result = await room.join(EVENT, user, now_ms(), secrets.randbelow(2**52) / 2**52,
                                 WINDOW_MS)
    else:
        result = await room.status(EVENT, user, now_ms(), WINDOW_MS)
    body = json.dumps({"ok": result.ok, **(result.data or {})}).encode()
    await send({"type": "http.response.start", "status": 200 if result.ok else 500,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    gc_tuning.tune_for_serving()  # as the API's processes do
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False, lifespan="off", backlog=4096,
                http=HeadWithBodyProtocol)  # the local host's HTTP protocol, as the API
