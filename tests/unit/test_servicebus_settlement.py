"""The Service Bus batch trigger's settlement logic: each message of a batch is completed,
abandoned or dead-lettered on its own outcome. Service Bus and the Functions host cannot
run here, so the message-actions object is a recording fake; the messages are the SDK's
own ``ServiceBusReceivedMessage`` built from AMQP messages, as the binding decodes them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from azure.servicebus import ServiceBusReceivedMessage
from azure.servicebus._pyamqp.message import Header, Message, Properties

from shared.adapters.servicebus_settlement import UNREADABLE, body_bytes, settle_batch
from shared.models import (
    LineItem,
    Order,
    OrderStatus,
    PaymentRequest,
)


def request(n: int) -> PaymentRequest:
    return PaymentRequest(order_id=f"E.o{n}", hold_id=f"E.h{n}", event_id="E", user_id="u",
                          items=(LineItem("GA", 1, 100),), amount=100, currency="EUR",
                          payment_token="tok_visa")


def message(body: bytes, message_id: str) -> ServiceBusReceivedMessage:
    amqp = Message(data=[body], properties=Properties(message_id=message_id),
                   header=Header(delivery_count=0))
    return ServiceBusReceivedMessage(amqp, receiver=None)


class FakeActions:
    """Records settlement calls like ServiceBusMessageActions; can fail one call."""

    def __init__(self, fail_on: str = "") -> None:
        self.calls: list[tuple[str, str, str | None]] = []
        self._fail_on = fail_on

    def _record(self, action: str, msg: Any, reason: str | None = None) -> None:
        if msg.message_id == self._fail_on:
            raise RuntimeError("settlement gRPC call failed (simulated)")
        self.calls.append((action, msg.message_id, reason))

    def complete(self, message: Any) -> None:
        self._record("complete", message)

    def abandon(self, message: Any) -> None:
        self._record("abandon", message)

    def deadletter(self, message: Any, deadletter_reason: str | None = None,
                   deadletter_error_description: str | None = None) -> None:
        self._record("deadletter", message, deadletter_reason)


def order_of(r: PaymentRequest, status: OrderStatus) -> Order:
    return Order(id=r.order_id, hold_id=r.hold_id, event_id=r.event_id, user_id=r.user_id,
                 status=status, total=r.amount, currency=r.currency, created_at=0)


async def test_each_message_of_a_batch_settles_on_its_own_outcome() -> None:
    ok, declined, transient = request(1), request(2), request(3)
    batch = [message(ok.to_json().encode(), "m1"), message(b"{not json", "poison"),
             message(declined.to_json().encode(), "m2"),
             message(transient.to_json().encode(), "m3")]
    seen: list[list[str]] = []

    async def handler(requests: Sequence[PaymentRequest]) -> list[Order | Exception]:
        seen.append([r.order_id for r in requests])
        return [order_of(ok, OrderStatus.CONFIRMED), order_of(declined, OrderStatus.FAILED),
                ConnectionError("gateway timeout")]

    actions = FakeActions()
    settled = await settle_batch(batch, actions, handler)
    assert seen == [["E.o1", "E.o2", "E.o3"]]  # the poison message never reaches it
    assert sorted(actions.calls) == [
        ("abandon", "m3", None), ("complete", "m1", None), ("complete", "m2", None),
        ("deadletter", "poison", UNREADABLE)]
    assert (settled.completed, settled.abandoned, settled.dead_lettered,
            settled.settlement_errors) == (2, 1, 1, 0)


async def test_a_failed_settlement_is_left_to_the_lock_and_does_not_stop_the_others() -> None:
    reqs = [request(n) for n in range(3)]
    batch = [message(r.to_json().encode(), f"m{n}") for n, r in enumerate(reqs)]

    async def handler(requests: Sequence[PaymentRequest]) -> list[Order]:
        return [order_of(r, OrderStatus.CONFIRMED) for r in requests]

    actions = FakeActions(fail_on="m1")
    settled = await settle_batch(batch, actions, handler)
    assert sorted(actions.calls) == [("complete", "m0", None), ("complete", "m2", None)]
    assert (settled.completed, settled.settlement_errors) == (2, 1)


async def test_the_dead_letter_queue_completes_an_unreadable_message() -> None:
    async def handler(requests: Sequence[PaymentRequest]) -> list[Order]:
        raise AssertionError("not called for an unreadable message alone")

    actions = FakeActions()
    settled = await settle_batch([message(b"\x00garbage", "p")], actions, handler,
                                 dead_letter_unreadable=False)
    assert actions.calls == [("complete", "p", None)] and settled.completed == 1


def test_body_bytes_joins_the_sdk_body_sections() -> None:
    r = request(7)
    assert PaymentRequest.from_json(body_bytes(message(r.to_json().encode(), "x"))) == r
