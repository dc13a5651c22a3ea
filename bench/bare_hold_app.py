"""The floor for a hold request: a bare ASGI app whose every POST is one call of hold.lua.

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
from redis.asyncio import BlockingConnectionPool, Redis

from shared.adapters import lua_scripts
from shared.adapters.redis_keys import event_keys, rate_key
from shared.models import now_ms

redis = Redis(connection_pool=BlockingConnectionPool.from_url(
    os.environ["REDIS_URL"], max_connections=64, decode_responses=True))
script = redis.register_script(lua_scripts.source("hold"))
EVENT = os.environ["BARE_EVENT_ID"]
TICKET_TYPE = os.environ["BARE_TICKET_TYPE"]
KEYS = [*event_keys(EVENT), rate_key(EVENT)]


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
    raw = await script(keys=KEYS, args=[f"{EVENT}.{uuid.uuid4().hex}", uuid.uuid4().hex, now,
                                        now + 600_000, 3, 1_000_000, 1_000, TICKET_TYPE, 1])
    ok = json.loads(raw)["ok"]
    body = raw.encode()
    await send({"type": "http.response.start", "status": 201 if ok else 409,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False, lifespan="off", backlog=4096)
