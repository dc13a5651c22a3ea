"""One trace from checkout through the payments queue to finalize, and the counters, read
back from OpenTelemetry's in-memory exporters."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

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
