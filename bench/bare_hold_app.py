"""The floor for a hold request: a bare ASGI app whose every POST is one call of hold.lua,
made through the same adapter method the API uses (so the two cannot drift apart).

No framework, no auth, no validation: what is left is uvicorn, one Redis round trip and a
JSON answer. ``flash_sale.py`` runs it beside the real API and prints the ratio.
Run: ``REDIS_URL=... BARE_EVENT_ID=... BARE_TICKET_TYPE=... python bench/bare_hold_app.py PORT``
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from typing import Any

import uvicorn
from redis.asyncio import Redis

from shared import gc_tuning
from shared.adapters.redis_pool import WaitingConnectionPool
from shared.adapters.redis_store import RedisInventory
from shared.local.http_protocol import HeadWithBodyProtocol
from shared.models import LineItem, now_ms
from shared.settings import Rate

redis = Redis(connection_pool=WaitingConnectionPool.from_url(
    os.environ["REDIS_URL"], max_connections=256, decode_responses=True))
store = RedisInventory(redis)
EVENT = os.environ["BARE_EVENT_ID"]
ITEMS = [LineItem(os.environ["BARE_TICKET_TYPE"], 1)]
RATE = Rate(1_000_000, 1_000)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    if scope["method"] != "POST":  # readiness probes must not take tickets
        await send({"type": "http.response.start", "status": 204,
                    "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
        return
    now = now_ms()
    result = await store.hold(EVENT, f"{EVENT}.{uuid.uuid4().hex}", uuid.uuid4().hex, ITEMS,
                              now, now + 600_000, 3, RATE)
    body = json.dumps({"ok": result.ok, "error": result.error}).encode()
    await send({"type": "http.response.start", "status": 201 if result.ok else 409,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    gc_tuning.tune_for_serving()  # as the API's processes do
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False, lifespan="off", backlog=4096,
                http=HeadWithBodyProtocol)  # the local host's HTTP protocol, as the API
