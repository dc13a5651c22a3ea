"""The payments message: its JSON round trip, the Service Bus message built from it, ids
(version 7 UUIDs: time-ordered, so the ledger's indexes take them in order)."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from shared import ids
from shared.adapters.servicebus_bus import ServiceBusBus, body_text, build_message
from shared.models import LineItem, PaymentRequest
from shared.settings import Settings

REQUEST = PaymentRequest(
    order_id="e1.0123456789abcdef0123456789abcdef", hold_id="e1.fedcba9876543210fedcba9876543210",
    event_id="e1", user_id="u1", items=(LineItem("ga", 2, 1500),), amount=3000,
    currency="EUR", payment_token="tok_visa", created_at=1,
    trace={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})


def test_payment_request_round_trips_through_json() -> None:
    assert PaymentRequest.from_json(REQUEST.to_json()) == REQUEST


def test_service_bus_message_is_deduplicated_on_the_order_id() -> None:
    message = build_message(REQUEST)
    assert message.message_id == REQUEST.order_id
    assert message.content_type == "application/json"
    assert json.loads(str(message)) == json.loads(REQUEST.to_json())
    props = message.application_properties or {}
    assert props["traceparent"] == REQUEST.trace["traceparent"]
    assert props["event_id"] == "e1"


def test_a_peeked_message_reads_back_as_the_request_the_restore_resumes() -> None:
    """What ``ServiceBusBus.queued`` does with each peeked message. A peek needs a live
    namespace, so the received message is built here from the AMQP body the SDK would hand
    over (split in two data sections, as the protocol allows)."""
    from azure.servicebus import ServiceBusReceivedMessage
    from azure.servicebus._pyamqp.message import Message

    body = str(build_message(REQUEST)).encode()
    received = ServiceBusReceivedMessage(Message(data=[body[:10], body[10:]]), receiver=None)
    assert PaymentRequest.from_json(body_text(received)) == REQUEST


def test_service_bus_bus_needs_a_connection_or_namespace() -> None:
    with pytest.raises(ValueError, match="SERVICEBUS_CONNECTION"):
        ServiceBusBus(queue="payments")


def test_child_ids_route_to_their_event() -> None:
    event_id = ids.new_id()
    hold_id = ids.new_child_id(event_id)
    assert ids.event_of(hold_id) == event_id
    assert ids.event_of("no-dot") is None
    assert ids.event_of(f"{event_id}.XYZ") is None
    assert len(set(ids.new_ticket_code() for _ in range(1000))) == 1000


def test_ids_are_version_7_uuids_in_the_order_they_were_made() -> None:
    made = []
    for _ in range(3):
        made.append(ids.new_child_id("e1"))
        time.sleep(0.002)  # a later millisecond
    assert made == sorted(made)  # the ledger's indexes take them at their right-hand end
    for child in made:
        digits = child.split(".")[1]
        assert uuid.UUID(digits).version == 7 and uuid.UUID(digits).variant == uuid.RFC_4122
        assert not ids.is_degraded_id(child)
    assert abs(int(made[0].split(".")[1][:12], 16) - time.time() * 1000) < 60_000
    degraded = ids.new_degraded_child_id("e1")
    assert ids.is_degraded_id(degraded) and ids.event_of(degraded) == "e1"
    assert uuid.UUID(ids.new_id()).version == 7
    assert len({ids.new_child_id("e1") for _ in range(10_000)}) == 10_000


def test_settings_read_every_variable() -> None:
    s = Settings.from_env({"REDIS_URL": "redis://x:1/0", "HOLD_SECONDS": "900",
                           "MAX_DELIVERY_COUNT": "5", "REDIS_CLUSTER": "true",
                           "SQL_URL": "mssql+pyodbc://srv/db", "PORT": "8000"})
    assert (s.redis_url, s.hold_seconds, s.max_delivery_count, s.redis_cluster, s.port) == (
        "redis://x:1/0", 900, 5, True, 8000)
    assert s.effective_sql_url == "mssql+pyodbc://srv/db"
    assert Settings.from_env({}).effective_sql_url.startswith("sqlite:///")
