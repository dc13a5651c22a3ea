"""The fast path answers exactly what the app answers: the same status, body and headers
(security headers, problem headers, the degraded-mode notice), for the hot requests it owns.

Each request goes once through the guard with the fast path and an app that fails the test
if reached (so the fast path really answered), and once through the guard and the FastAPI
app alone, as every other request goes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from shared.api.app import create_app
from shared.api.degraded_notice import DegradedNotice
from shared.api.fast_path import FastPath
from shared.api.guard import Guard
from shared.runtime import Runtime
from tests.support import assert_invariant, make_buyer, make_event, type_id, wait_until

Pair = tuple[httpx.AsyncClient, httpx.AsyncClient]


async def _unreachable(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError(f"the fast path left {scope['method']} {scope['path']} to the app")


@pytest.fixture
async def pair(rt: Runtime) -> AsyncIterator[Pair]:
    app = create_app(rt)
    limits: dict[str, Any] = {"max_body_bytes": rt.settings.max_body_bytes,
                              "max_upload_bytes": rt.settings.image_max_bytes}
    fast = Guard(DegradedNotice(_unreachable, breaker=lambda: rt.breaker),
                 fast=FastPath(lambda: rt), **limits)
    slow = Guard(DegradedNotice(app.framework, breaker=lambda: rt.breaker), **limits)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fast),
                                 base_url="http://t") as f, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=slow),
                              base_url="http://t") as s:
        yield f, s


def _headers(answer: httpx.Response, *, without: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return sorted((k.decode().lower(), v.decode()) for k, v in answer.headers.raw
                  if k.decode().lower() not in without)


async def _same(pair: Pair, method: str, path: str, *, token: str | None = None,
                body: dict[str, Any] | None = None) -> httpx.Response:
    """Send the request both ways; assert the answers are byte for byte the same."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    fast, slow = [await c.request(method, path, json=body, headers=headers) for c in pair]
    assert (fast.status_code, fast.content) == (slow.status_code, slow.content)
    assert _headers(fast) == _headers(slow)
    return fast


async def _alike(pair: Pair, method: str, path: str, token: str,
                 body: dict[str, Any] | None, ids: Callable[[dict[str, Any]], dict[str, Any]],
                 ) -> tuple[httpx.Response, httpx.Response]:
    """Send a request that creates something both ways: the answers differ only in the new
    record's ids (``ids`` blanks them) and its Location."""
    headers = {"Authorization": f"Bearer {token}"}
    fast, slow = [await c.request(method, path, json=body, headers=headers) for c in pair]
    assert fast.status_code == slow.status_code
    assert ids(fast.json()) == ids(slow.json())
    assert _headers(fast, without=("location", "content-length")) == _headers(
        slow, without=("location", "content-length"))
    return fast, slow


async def test_holds_checkouts_and_orders_answer_as_the_app(rt: Runtime, pair: Pair) -> None:
    event = await make_event(rt, {"GA": 2}, per_user_limit=4)
    ga = type_id(event, "GA")
    token, _ = await make_buyer(rt)
    holds = f"/api/events/{event.id}/holds"

    def hold_ids(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "hold_id": "", "expires_at": ""}

    won = await _alike(pair, "POST", holds, token,
                       {"items": [{"ticket_type_id": ga, "quantity": 1}]}, hold_ids)
    assert [w.status_code for w in won] == [201, 201]
    # Sold out, over the limit, unknown type, unknown event, no session, a bad token.
    await _same(pair, "POST", holds, token=token,
                body={"items": [{"ticket_type_id": ga, "quantity": 1}]})
    assert (await _same(pair, "POST", holds, token=token,
                        body={"items": [{"ticket_type_id": ga, "quantity": 9}]})
            ).json()["type"] == "/problems/per-user-limit"
    assert (await _same(pair, "POST", holds, token=token,
                        body={"items": [{"ticket_type_id": "nope", "quantity": 1}]})
            ).json()["field"] == "items[0].ticket_type_id"
    await _same(pair, "POST", "/api/events/no-such-event/holds", token=token,
                body={"items": [{"ticket_type_id": ga, "quantity": 1}]})
    unauthenticated = await _same(pair, "POST", holds,
                                  body={"items": [{"ticket_type_id": ga, "quantity": 1}]})
    assert unauthenticated.headers["www-authenticate"] == "Bearer"
    await _same(pair, "POST", holds, token="not-a-session",
                body={"items": [{"ticket_type_id": ga, "quantity": 1}]})

    def order_ids(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "order_id": ""}

    checkouts = [await client.post(f"/api/holds/{answer.json()['hold_id']}/checkout",
                                   json={"payment_token": "tok_visa"},
                                   headers={"Authorization": f"Bearer {token}"})
                 for client, answer in zip(pair, won, strict=True)]
    assert [c.status_code for c in checkouts] == [202, 202]
    assert order_ids(checkouts[0].json()) == order_ids(checkouts[1].json())
    assert _headers(checkouts[0], without=("location",)) == _headers(
        checkouts[1], without=("location",))
    # A hold checked out already, then one that is not there.
    await _same(pair, "POST", f"/api/holds/{won[0].json()['hold_id']}/checkout", token=token,
                body={"payment_token": "tok_visa"})
    await _same(pair, "POST", f"/api/holds/{event.id}.{'0' * 32}/checkout", token=token,
                body={"payment_token": "tok_visa"})
    for checkout in checkouts:
        order = f"/api/orders/{checkout.json()['order_id']}"
        assert (await _same(pair, "GET", order, token=token)).status_code == 200
        await _same(pair, "GET", order + "?wait=0.5", token=token)
    await _same(pair, "GET", f"/api/orders/{event.id}.{'0' * 32}", token=token)
    await assert_invariant(rt, event.id)


async def test_answers_in_degraded_mode_carry_the_notice(rt: Runtime, pair: Pair) -> None:
    event = await make_event(rt, {"GA": 1})
    while not rt.breaker.is_open:
        rt.breaker.record_failure()
    for method, path, body in (
            ("GET", f"/api/orders/{event.id}.{'0' * 32}", None),
            ("POST", f"/api/events/{event.id}/holds",
             {"items": [{"ticket_type_id": type_id(event, "GA"), "quantity": 1}]})):
        answer = await _same(pair, method, path, token="not-a-session", body=body)
        assert answer.status_code == 401
        assert answer.headers["leap-degraded"] == "redis"

    async def closed() -> bool:
        rt.breaker.allow()  # once the breaker's open time is over, this starts its probe
        await rt.breaker.wait_probe()
        return not rt.breaker.is_open

    await wait_until(closed, "the breaker to close (Redis never went away)")
    await assert_invariant(rt, event.id)
