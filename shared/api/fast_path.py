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
are rendered by the same functions the app's handlers use (``problems``).

The guard calls it once a request has passed its checks (body limits, content types), and
it sends its answer as the two raw ASGI messages, with the headers every API answer carries
(the guard's security headers, the degraded-mode notice) already in them: in the sold-out
rush, wrapping each message on its way out and building a ``Response`` for it were a tenth
of a worker's time per request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from fastapi.telemetry._api import _route_selected  # FastAPI's router names spans with it
from pydantic import ValidationError
from starlette.types import Message, Scope, Send

from shared.api.degraded_notice import notice
from shared.api.deps import bearer_from
from shared.api.guard import API_SECURITY
from shared.api.problems import PROBLEM, Problem, dependency_problem, domain_problem
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

JSON, PROBLEM_JSON = b"application/json", PROBLEM.encode()


class Answer(NamedTuple):
    """What the fast path sends: status, body, and the headers beyond content type and
    length (a ``Location``, a problem's ``Retry-After`` or ``WWW-Authenticate``)."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()
    content_type: bytes = JSON

    @classmethod
    def created(cls, status: int, body: bytes, location: str) -> Answer:
        return cls(status, body, ((b"location", location.encode()),))

    @classmethod
    def of(cls, problem: Problem) -> Answer:
        return cls(problem.status, problem.body,
                   tuple((k.lower().encode(), v.encode()) for k, v in problem.headers.items()),
                   PROBLEM_JSON)

    def messages(self, degraded: tuple[bytes, bytes] | None) -> tuple[Message, Message]:
        """``http.response.start`` and ``http.response.body``, every header in place."""
        headers = [(b"content-length", str(len(self.body)).encode()),
                   (b"content-type", self.content_type), *self.headers]
        if degraded:
            headers.append(degraded)
        return ({"type": "http.response.start", "status": self.status,
                 "headers": headers + API_SECURITY},
                {"type": "http.response.body", "body": self.body})


# An answer, or None when the request is not ours to answer (the app gets it as it came).
Handler = Callable[[Runtime, Scope, str, dict[bytes, bytes], bytes], Awaitable[Answer | None]]


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


async def _user(rt: Runtime, headers: dict[bytes, bytes]) -> Principal:
    return await rt.accounts.authenticate(
        bearer_from(headers.get(b"authorization", b"").decode("latin-1")))


async def _hold(rt: Runtime, scope: Scope, event_id: str, headers: dict[bytes, bytes],
                body: bytes) -> Answer | None:
    user = await _user(rt, headers)
    queue_token = headers.get(b"x-queue-token", b"").decode("latin-1")
    if len(queue_token) > QUEUE_TOKEN_MAX:  # the app answers the 422 naming it
        return None
    try:
        hold_in = HoldIn.model_validate_json(body)
    except ValidationError:  # the app names every field at fault
        return None
    # A queued event's hold needs the waiting room's signed token, as in the route.
    await rt.waiting_room.require_admission(user, event_id, queue_token or None)
    hold = await rt.holds.create(
        user, event_id, [LineItem(i.ticket_type_id, i.quantity) for i in hold_in.items],
        hold_in.promo_code or "")
    return Answer.created(201, hold_json(hold), f"/api/holds/{hold.id}")


async def _checkout(rt: Runtime, scope: Scope, hold_id: str, headers: dict[bytes, bytes],
                    body: bytes) -> Answer | None:
    user = await _user(rt, headers)
    try:
        checkout_in = CheckoutIn.model_validate_json(body)
    except ValidationError:
        return None
    hold = await rt.checkout.checkout(user, hold_id, checkout_in.payment_token)
    assert hold.order_id is not None
    return Answer.created(
        202, _dumps({"order_id": hold.order_id, "status": checkout_status(hold)}),
        f"/api/orders/{hold.order_id}")


async def _order(rt: Runtime, scope: Scope, order_id: str, headers: dict[bytes, bytes],
                 body: bytes) -> Answer | None:
    query: bytes = scope.get("query_string", b"")
    wait = 0.0
    if query:
        if (given := WAIT_QUERY.match(query)) is None:
            return None  # other parameters, or a wait the app refuses with a 422
        wait = float(given.group(1))
        if wait > MAX_WAIT_SECONDS:
            return None
    user = await _user(rt, headers)
    return Answer(200, (await order_out(rt, user, order_id, wait)).model_dump_json().encode())


# Method, path, the route's template (what traces name it), handler.
ROUTES: tuple[tuple[str, re.Pattern[str], str, Handler], ...] = (
    ("POST", HOLDS_PATH, "/api/events/{event_id}/holds", _hold),
    ("POST", CHECKOUT_PATH, "/api/holds/{hold_id}/checkout", _checkout),
    ("GET", ORDER_PATH, "/api/orders/{order_id}", _order))


def _route(scope: Scope) -> tuple[Handler, str] | None:
    method, path = scope["method"], scope["path"]
    for route_method, pattern, template, handler in ROUTES:
        if method == route_method and (match := pattern.match(path)):
            if "fastapi.telemetry" in scope:  # the request's span, named as the route's
                _route_selected(scope=scope, path=template)
            return handler, match.group(1)
    return None


class FastPath:
    """``Guard(fast=FastPath(...))``: called with a request that passed the guard's checks,
    its headers and its whole body; answers it and returns True, or returns False and the
    guard hands the request to the app."""

    def __init__(self, runtime: Callable[[], Runtime], *, cors: bool = False) -> None:
        self._runtime = runtime
        self._cors = cors

    async def __call__(self, scope: Scope, headers: dict[bytes, bytes], body: bytes,
                       send: Send) -> bool:
        path: str = scope["path"]
        if (route := _route(scope)) is None or b"idempotency-key" in headers \
                or (self._cors and b"origin" in headers):
            return False
        handler, target = route
        rt = self._runtime()
        try:
            answer = await handler(rt, scope, target, headers, body)
        except DomainError as exc:
            answer = Answer.of(domain_problem(exc, path))
        except Exception as exc:
            if (problem := dependency_problem(exc, path)) is None:
                raise
            answer = Answer.of(problem)
        if answer is None:  # not ours to answer: the app sees the request as it came
            return False
        start, end = answer.messages(notice(rt.breaker))
        await send(start)
        await send(end)
        return True
