"""PaymentBus on an Azure Service Bus queue (official ``azure-servicebus`` async client).

The message id is the order id, so the queue's duplicate detection drops a second publish
of the same checkout; trace context travels in application properties. Authenticates with
a connection string or, when only the namespace is set, a managed identity.
"""

from __future__ import annotations

import asyncio
from typing import Any

from azure.servicebus import ServiceBusMessage, ServiceBusReceivedMessage
from azure.servicebus.aio import ServiceBusClient, ServiceBusSender

from shared.models import PaymentRequest

PEEK_BATCH = 250


def build_message(request: PaymentRequest) -> ServiceBusMessage:
    props: dict[str | bytes, Any] = {k: v for k, v in request.trace.items()}
    props["event_id"] = request.event_id
    return ServiceBusMessage(
        request.to_json(),
        message_id=request.order_id,
        content_type="application/json",
        subject="payment-request",
        application_properties=props,
    )


def body_text(message: ServiceBusReceivedMessage) -> str:
    """The JSON body ``build_message`` wrote (a data body may arrive in several sections)."""
    body: Any = message.body
    if isinstance(body, bytes | str):
        return body.decode() if isinstance(body, bytes) else body
    return b"".join(body).decode()


class ServiceBusBus:
    def __init__(self, *, queue: str, connection_string: str = "", namespace: str = "") -> None:
        if not connection_string and not namespace:
            raise ValueError("Service Bus needs SERVICEBUS_CONNECTION or its namespace")
        self._queue = queue
        self._connection_string = connection_string
        self._namespace = namespace
        self._client: ServiceBusClient | None = None
        self._sender: ServiceBusSender | None = None
        self._lock = asyncio.Lock()

    async def _get_sender(self) -> ServiceBusSender:
        async with self._lock:
            if self._sender is None:
                if self._connection_string:
                    self._client = ServiceBusClient.from_connection_string(
                        self._connection_string)
                else:
                    from azure.identity.aio import DefaultAzureCredential

                    self._client = ServiceBusClient(self._namespace, DefaultAzureCredential())
                self._sender = self._client.get_queue_sender(self._queue)
            return self._sender

    async def publish(self, request: PaymentRequest) -> None:
        sender = await self._get_sender()
        await sender.send_messages(build_message(request))

    async def queued(self) -> list[PaymentRequest]:
        """Peek every active message of the queue (nothing is locked or received)."""
        await self._get_sender()
        assert self._client is not None
        out: list[PaymentRequest] = []
        async with self._client.get_queue_receiver(self._queue) as receiver:
            sequence = 0
            while True:
                batch = await receiver.peek_messages(max_message_count=PEEK_BATCH,
                                                     sequence_number=sequence)
                if not batch:
                    return out
                out += [PaymentRequest.from_json(body_text(m)) for m in batch]
                sequence = int(batch[-1].sequence_number or 0) + 1

    async def close(self) -> None:
        if self._sender is not None:
            await self._sender.close()
        if self._client is not None:
            await self._client.close()
