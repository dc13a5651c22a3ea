"""One trace from checkout through the payments queue to finalize, and the counters, read
back from OpenTelemetry's in-memory exporters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from shared.api.app import create_app
from shared.errors import SoldOut
from shared.local.redis_server import RedisServer
from shared.models import LineItem, PaymentRequest
from shared.runtime import Runtime
from tests.integration.test_degraded import drt, own_redis, redis_back
from tests.support import assert_invariant, make_buyer, make_event, type_id

__all__ = ["drt", "own_redis"]  # fixtures shared with test_degraded

SPANS = InMemorySpanExporter()
READER = InMemoryMetricReader()


@pytest.fixture(scope="module", autouse=True)
def providers() -> None:
    # Global providers can be set once per process; the proxies in shared.telemetry follow.
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(SPANS))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[READER]))


def _sums() -> dict[str, float]:
    data: Any = READER.get_metrics_data()
    out: dict[str, float] = {}
    for rm in data.resource_metrics if data else []:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                for point in metric.data.data_points:
                    out[metric.name] = out.get(metric.name, 0) + getattr(
                        point, "value", getattr(point, "count", 0))
    return out


async def test_one_trace_from_checkout_through_the_queue_to_finalize(rt: Runtime) -> None:
    SPANS.clear()
    before = _sums()
    event = await make_event(rt, {"GA": 2})
    _, user = await make_buyer(rt)
    hold = await rt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), 2)])
    with pytest.raises(SoldOut):
        await rt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), 1)])
    await rt.checkout.checkout(user, hold.id, "tok_visa")
    entries: Any = await rt.redis.xrange(rt.stream_names.stream)
    message = PaymentRequest.from_json(entries[-1][1]["body"])  # what the consumer receives
    assert "traceparent" in message.trace
    await rt.finalizer.handle(message)

    spans = {s.name: s for s in SPANS.get_finished_spans()}
    checkout, finalize = spans["checkout"], spans["finalize"]
    assert finalize.context.trace_id == checkout.context.trace_id
    assert finalize.parent is not None and finalize.parent.span_id == checkout.context.span_id
    assert finalize.attributes and finalize.attributes["leap.order_status"] == "confirmed"
    after = _sums()
    assert after["leap.holds"] - before.get("leap.holds", 0) == 1
    assert after["leap.sold_outs"] - before.get("leap.sold_outs", 0) == 1
    assert after["leap.finalize.duration"] - before.get("leap.finalize.duration", 0) == 1
    await assert_invariant(rt, event.id)


async def test_declines_and_dead_letters_are_counted(rt: Runtime) -> None:
    before = _sums()
    event = await make_event(rt, {"GA": 4})
    _, user = await make_buyer(rt)
    for token in ("tok_chargeDeclined", "tok_processingError"):
        hold = await rt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), 1)])
        hold = await rt.checkout.checkout(user, hold.id, token)
        assert hold.order_id
        request = PaymentRequest(order_id=hold.order_id, hold_id=hold.id, event_id=event.id,
                                 user_id=user.user_id, items=hold.items, amount=hold.total,
                                 currency=hold.currency, payment_token=token)
        if token == "tok_chargeDeclined":
            await rt.finalizer.handle(request)
        else:
            await rt.finalizer.handle_dead_letter(request)
    after = _sums()
    assert after["leap.payment_declines"] - before.get("leap.payment_declines", 0) == 1
    assert after["leap.dead_letters"] - before.get("leap.dead_letters", 0) == 1
    await assert_invariant(rt, event.id)


async def test_the_fast_paths_requests_are_traced_from_the_callers_context(
        rt: Runtime) -> None:
    """Holds, checkouts and order reads are answered by the fast path, in front of FastAPI's
    own middleware: their HTTP server spans still exist, named as the routes, child of the
    caller's ``traceparent``, and the checkout's trace runs on into finalize."""
    SPANS.clear()
    event = await make_event(rt, {"GA": 1})
    token, _ = await make_buyer(rt)
    caller_trace, caller_span = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    headers = {"Authorization": f"Bearer {token}",
               "traceparent": f"00-{caller_trace}-{caller_span}-01"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(rt)),
                                 base_url="http://t", headers=headers) as client:
        held = await client.post(f"/api/events/{event.id}/holds", json={
            "items": [{"ticket_type_id": type_id(event, "GA"), "quantity": 1}]})
        assert held.status_code == 201
        sold_out = await client.post(f"/api/events/{event.id}/holds", json={
            "items": [{"ticket_type_id": type_id(event, "GA"), "quantity": 1}]})
        assert sold_out.status_code == 409
        paid = await client.post(f"/api/holds/{held.json()['hold_id']}/checkout",
                                 json={"payment_token": "tok_visa"})
        assert paid.status_code == 202
        entries: Any = await rt.redis.xrange(rt.stream_names.stream)
        await rt.finalizer.handle(PaymentRequest.from_json(entries[-1][1]["body"]))
        assert (await client.get(f"/api/orders/{paid.json()['order_id']}")).status_code == 200

    spans = SPANS.get_finished_spans()
    servers = [s for s in spans if s.kind == SpanKind.SERVER]
    assert [s.name for s in servers] == [
        "POST /api/events/{event_id}/holds", "POST /api/events/{event_id}/holds",
        "POST /api/holds/{hold_id}/checkout", "GET /api/orders/{order_id}"]
    assert [s.attributes and s.attributes["http.response.status_code"] for s in servers] == [
        201, 409, 202, 200]
    for server in servers:
        assert server.context.trace_id == int(caller_trace, 16)
        assert server.parent is not None and server.parent.span_id == int(caller_span, 16)
    by_name = {s.name: s for s in spans}
    checkout, finalize = by_name["checkout"], by_name["finalize"]
    assert checkout.parent is not None and checkout.parent.span_id == servers[2].context.span_id
    assert finalize.parent is not None and finalize.parent.span_id == checkout.context.span_id
    await assert_invariant(rt, event.id)


def test_without_a_connection_string_nothing_is_exported() -> None:
    from shared import telemetry
    from shared.settings import Settings

    assert telemetry.configure(Settings.from_env({})) is False


def _attributes(name: str) -> list[dict[str, Any]]:
    data: Any = READER.get_metrics_data()
    return [dict(point.attributes or {})
            for rm in (data.resource_metrics if data else []) for sm in rm.scope_metrics
            for metric in sm.metrics if metric.name == name
            for point in metric.data.data_points]


async def test_breaker_trips_and_degraded_holds_are_counted(
        drt: Runtime, own_redis: RedisServer) -> None:
    before = _sums()
    event = await make_event(drt, {"GA": 3})
    _, user = await make_buyer(drt)
    own_redis.kill()
    await drt.holds.create(user, event.id, [LineItem(type_id(event, "GA"), 1)])
    after = _sums()
    assert after["leap.breaker.trips"] - before.get("leap.breaker.trips", 0) == 1
    assert after["leap.holds.degraded"] - before.get("leap.holds.degraded", 0) == 1
    assert {"dependency": "redis"} in _attributes("leap.breaker.trips")
    own_redis.start()
    await redis_back(drt)
    await assert_invariant(drt, event.id)
