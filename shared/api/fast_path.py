"""The on-sale's hot requests answered in pure ASGI: take a hold, check it out, read the order.

A flash sale is mostly these three requests, and profiling them (docs/architecture.md §8)
showed the framework's layers (routing, dependency solving, exception middleware, response
classes and pydantic validation on the way out) costing several times the Redis round trips
they need. This answers the common case of each directly, with the same service calls and
the same bytes as the routes:

- ``POST /api/events/{E}/holds``: the waiting room's admission check, ``HoldService.create``,
  the ``HoldOut`` JSON with its ``Location``;
- ``POST /api/holds/{H}/checkout``: ``CheckoutService.checkout``, the ``CheckoutOut`` JSON;
- ``GET /api/orders/{O}`` (with or without ``?wait=``): the route's own ``order_out``.

Everything else goes to the FastAPI app unchanged, so the contract has one definition:
requests with an ``Idempotency-Key`` (stored answers), a cross-origin ``Origin`` when CORS
is configured, and requests that fail validation (the app answers the same 422 with every
field named; nothing has changed yet at that point). Domain errors and dependency failures
are rendered by the same functions the app's handlers use. It sits inside the guard, so
body limits, content types and security headers still apply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable

from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.api.deps import bearer_from
from shared.api.guard import replaying
from shared.api.problems import dependency_problem, domain_problem
from shared.api.routes.holds import checkout_status
from shared.api.routes.orders import order_out
from shared.api.schemas import CheckoutIn, HoldIn
from shared.errors import DomainError
from shared.models import Hold, LineItem, Principal, iso
from shared.runtime import Runtime
from shared.services.order_waits import MAX_WAIT_SECONDS

HOLDS_PATH = re.compile(r"^/api/events/([^/]+)/holds$")
CHECKOUT_PATH = re.compile(r"^/api/holds/([^/]+)/checkout$")
ORDER_PATH = re.compile(r"^/api/orders/([^/]+)$")
WAIT_QUERY = re.compile(rb"^wait=(\d{1,2}(?:\.\d{1,3})?)$")
QUEUE_TOKEN_MAX = 200  # the route's X-Queue-Token max_length

# An answer, or None when the request is not ours to answer (the app gets it as it came).
Handler = Callable[[Runtime, Scope, str, dict[bytes, bytes], bytes], Awaitable[Response | None]]


def _dumps(payload: object) -> bytes:
    """JSON as the app's JSONResponse renders it."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode()


def hold_json(hold: Hold) -> bytes:
    """``HoldOut.of(hold)`` as the app's JSONResponse renders it, without pydantic."""
    return _dumps({
        "hold_id": hold.id, "event_id": hold.event_id, "status": hold.status.value,
        "items": [{"ticket_type_id": i.ticket_type_id, "quantity": i.quantity,
                   "unit_price": i.unit_price} for i in hold.items],
        "total": hold.total, "currency": hold.currency, "expires_at": iso(hold.expires_at),
        "order_id": hold.order_id, "promo_code": hold.promo_code, "discount": hold.discount,
    })


def _json(body: bytes, status: int = 200, location: str | None = None) -> Response:
    return Response(body, status_code=status, media_type="application/json",
                    headers={"Location": location} if location else None)


async def _user(rt: Runtime, headers: dict[bytes, bytes]) -> Principal:
    return await rt.accounts.authenticate(
        bearer_from(headers.get(b"authorization", b"").decode("latin-1")))


async def _hold(rt: Runtime, scope: Scope, event_id: str, headers: dict[bytes, bytes],
                body: bytes) -> Response | None:
    user = await _user(rt, headers)
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
    return _json(hold_json(hold), 201, f"/api/holds/{hold.id}")


async def _checkout(rt: Runtime, scope: Scope, hold_id: str, headers: dict[bytes, bytes],
                    body: bytes) -> Response | None:
    user = await _user(rt, headers)
    try:
        checkout_in = CheckoutIn.model_validate(json.loads(body))
    except (ValueError, ValidationError):
        return None
    hold = await rt.checkout.checkout(user, hold_id, checkout_in.payment_token)
    assert hold.order_id is not None
    return _json(_dumps({"order_id": hold.order_id, "status": checkout_status(hold)}), 202,
                 f"/api/orders/{hold.order_id}")


async def _order(rt: Runtime, scope: Scope, order_id: str, headers: dict[bytes, bytes],
                 body: bytes) -> Response | None:
    query: bytes = scope.get("query_string", b"")
    wait = 0.0
    if query:
        if (given := WAIT_QUERY.match(query)) is None:
            return None  # other parameters, or a wait the app refuses with a 422
        wait = float(given.group(1))
        if wait > MAX_WAIT_SECONDS:
            return None
    user = await _user(rt, headers)
    return _json((await order_out(rt, user, order_id, wait)).model_dump_json().encode())


ROUTES: tuple[tuple[str, re.Pattern[str], Handler], ...] = (
    ("POST", HOLDS_PATH, _hold), ("POST", CHECKOUT_PATH, _checkout), ("GET", ORDER_PATH, _order))


class FastPath:
    def __init__(self, app: ASGIApp, runtime: Callable[[], Runtime], *,
                 cors: bool = False) -> None:
        self.app = app
        self._runtime = runtime
        self._cors = cors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for method, path, handler in ROUTES:
                if scope["method"] == method and (match := path.match(scope["path"])):
                    await self._answer(scope, receive, send, handler, match.group(1))
                    return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, handler: Handler,
                      target: str) -> None:
        headers = dict(scope["headers"])
        if b"idempotency-key" in headers or (self._cors and b"origin" in headers):
            await self.app(scope, receive, send)
            return
        body = b""
        if scope["method"] == "POST":
            message = await receive()  # the guard has buffered the whole body into one message
            body = message.get("body", b"")
            receive = replaying(body, receive)
        path: str = scope["path"]
        try:
            answer = await handler(self._runtime(), scope, target, headers, body)
        except DomainError as exc:
            answer = domain_problem(exc, path)
        except Exception as exc:
            if (answer := dependency_problem(exc, path)) is None:
                raise
        if answer is None:  # not ours to answer: the app sees the request as it came
            await self.app(scope, receive, send)
            return
        await answer(scope, receive, send)
