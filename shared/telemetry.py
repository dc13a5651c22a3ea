"""Telemetry: OpenTelemetry traces and metrics, exported to Azure Monitor (Application
Insights) when APPLICATIONINSIGHTS_CONNECTION_STRING is set (``Settings``), and no-ops
otherwise.

One trace runs from the HTTP checkout through the payments queue to the finalize handler:
checkout injects the W3C trace context into the message (``PaymentRequest.trace``, which the
Service Bus publisher also copies into application properties) and finalize continues it.
Counters: holds, sold-outs, payment declines, dead-letters, breaker trips, degraded holds;
a histogram: finalize latency.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context

from shared.settings import Settings

log = logging.getLogger(__name__)

tracer = trace.get_tracer("leap.ticketing")
meter = metrics.get_meter("leap.ticketing")

holds = meter.create_counter("leap.holds", description="holds taken")
sold_outs = meter.create_counter("leap.sold_outs", description="hold requests refused: sold out")
declines = meter.create_counter("leap.payment_declines", description="payments declined")
dead_letters = meter.create_counter("leap.dead_letters",
                                    description="payment messages dead-lettered")
breaker_trips = meter.create_counter(
    "leap.breaker.trips", description="circuit breaker trips (attribute: dependency)")
holds_degraded = meter.create_counter(
    "leap.holds.degraded", description="holds taken in the SQL ledger while Redis was down")
finalize_ms = meter.create_histogram("leap.finalize.duration", unit="ms",
                                     description="time to finalize one payment message")


def configure(settings: Settings) -> bool:
    """Install Azure Monitor exporters when a connection string is configured."""
    connection = settings.applicationinsights_connection_string
    if not connection:
        return False
    from azure.monitor.opentelemetry.exporter import (
        AzureMonitorMetricExporter,
        AzureMonitorTraceExporter,
    )
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": settings.otel_service_name})
    traces = TracerProvider(resource=resource)
    traces.add_span_processor(BatchSpanProcessor(
        AzureMonitorTraceExporter(connection_string=connection)))
    trace.set_tracer_provider(traces)
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[
        PeriodicExportingMetricReader(AzureMonitorMetricExporter(connection_string=connection))]))
    log.info("telemetry: exporting to Azure Monitor")
    return True


def exporting(settings: Settings) -> bool:
    """Whether anything records telemetry: Azure Monitor is configured, or a provider is
    installed already (the tests read spans and metrics back from memory)."""
    return bool(settings.applicationinsights_connection_string) or not (
        isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
        and type(metrics.get_meter_provider()).__name__ == "_ProxyMeterProvider")


def inject() -> dict[str, str]:
    """The current trace context as message properties (traceparent, tracestate)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def extract(carrier: Mapping[str, str]) -> Context:
    return propagate.extract(dict(carrier))
