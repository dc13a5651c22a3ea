"""The hold request's fast path: ``POST /api/events/{E}/holds`` answered in pure ASGI.

A flash sale is mostly this one request, and profiling it (docs/architecture.md §8) showed
the framework's layers (routing, dependency solving, exception middleware, response
classes and pydantic serialization on the way out) costing several times the one Redis
round trip the hold needs. This answers the common case directly with the same service
call and the same bytes: authenticate the bearer token, validate the body with the same
``HoldIn`` model, the waiting room's admission check, ``HoldService.create``, and the
``HoldOut`` JSON with its ``Location``.

Everything else goes to the FastAPI app unchanged, so the contract has one definition:
requests with an ``Idempotency-Key`` (stored answers), a cross-origin ``Origin`` when CORS
is configured, and bodies that fail validation (the app answers the same 422 with every
field named; nothing has changed yet at that point). Domain errors and dependency failures
after the hold was attempted are rendered by the same functions the app's handlers use.
It sits inside the guard, so body limits, content types and security headers still apply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.api.deps import bearer_from
from shared.api.guard import replaying
from shared.api.problems import dependency_problem, domain_problem
from shared.api.schemas import HoldIn
from shared.errors import DomainError
from shared.models import Hold, LineItem, iso
from shared.runtime import Runtime

HOLDS_PATH = re.compile(r"^/api/events/([^/]+)/holds$")
QUEUE_TOKEN_MAX = 200  # the route's X-Queue-Token max_length


def hold_json(hold: Hold) -> bytes:
    """``HoldOut.of(hold)`` as the app's JSONResponse renders it, without pydantic."""
    return json.dumps({
        "hold_id": hold.id, "event_id": hold.event_id, "status": hold.status.value,
        "items": [{"ticket_type_id": i.ticket_type_id, "quantity": i.quantity,
                   "unit_price": i.unit_price} for i in hold.items],
        "total": hold.total, "currency": hold.currency, "expires_at": iso(hold.expires_at),
        "order_id": hold.order_id, "promo_code": hold.promo_code, "discount": hold.discount,
    }, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class HoldFastPath:
    def __init__(self, app: ASGIApp, runtime: Callable[[], Runtime], *,
                 cors: bool = False) -> None:
        self.app = app
        self._runtime = runtime
        self._cors = cors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = (HOLDS_PATH.match(scope["path"])
                 if scope["type"] == "http" and scope["method"] == "POST" else None)
        if match is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if b"idempotency-key" in headers or (self._cors and b"origin" in headers):
            await self.app(scope, receive, send)
            return
        message = await receive()  # the guard has buffered the whole body into one message
        body: bytes = message.get("body", b"")
        answer = await self._hold(scope, match.group(1), headers, body)
        if answer is None:  # not ours to answer: the app sees the request as it came
            await self.app(scope, replaying(body, receive), send)
            return
        await answer(scope, receive, send)

    async def _hold(self, scope: Scope, event_id: str, headers: dict[bytes, bytes],
                    body: bytes) -> Response | None:
        path: str = scope["path"]
        rt = self._runtime()
        try:
            user = await rt.accounts.authenticate(
                bearer_from(headers.get(b"authorization", b"").decode("latin-1")))
            queue_token = headers.get(b"x-queue-token", b"").decode("latin-1")
            if len(queue_token) > QUEUE_TOKEN_MAX:  # the app answers the 422 naming it
                return None
            try:
                hold_in = HoldIn.model_validate(json.loads(body))
            except (ValueError, ValidationError):  # the app names every field at fault
                return None
            # A queued event's hold needs the waiting room's signed token, as in the route.
            await rt.waiting_room.require_admission(user, event_id, queue_token or None)
            hold = await rt.holds.create(
                user, event_id, [LineItem(i.ticket_type_id, i.quantity) for i in hold_in.items],
                hold_in.promo_code or "")
        except DomainError as exc:
            return domain_problem(exc, path)
        except Exception as exc:
            if (down := dependency_problem(exc, path)) is not None:
                return down
            raise
        return Response(hold_json(hold), status_code=201, media_type="application/json",
                        headers={"Location": f"/api/holds/{hold.id}"})

