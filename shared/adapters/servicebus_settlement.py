"""Per-message settlement of a Service Bus trigger batch (the Functions SDK-type bindings).

The ``payments`` trigger receives a batch (``cardinality="many"``) of
``ServiceBusReceivedMessage`` with ``autoCompleteMessages`` off, and settles each message
through ``ServiceBusMessageActions`` (package ``azurefunctions-extensions-bindings-servicebus``)
according to its own outcome:

- handled (its order is final): ``complete``;
- failed (a transient error): ``abandon``, so Service Bus redelivers it, and past the
  queue's max delivery count moves it to the dead-letter queue itself;
- unreadable (poison): ``deadletter`` at once with the reason ``UnreadableMessage``; no
  delivery could ever read it, so waiting for the max delivery count would only delay it.

With the host's auto-completion instead, a batch invocation completes or abandons every
message at once: one declined card or one transient error would redeliver the whole batch.
The handlers are idempotent either way; per-message settlement keeps the others from being
delayed and re-run. Settlement calls are blocking gRPC calls to the host, so they run in
worker threads; a failed settlement is logged and left to the message lock's expiry (the
message comes again and the idempotent handler answers it from the ledger).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from shared.models import PaymentRequest

log = logging.getLogger(__name__)

BatchHandler = Callable[[Sequence[PaymentRequest]], Awaitable[Sequence[Any]]]
UNREADABLE = "UnreadableMessage"


class ReceivedMessage(Protocol):
    """What we read of ``azure.servicebus.ServiceBusReceivedMessage``."""

    @property
    def body(self) -> Any: ...

    @property
    def message_id(self) -> str | None: ...

    @property
    def delivery_count(self) -> int | None: ...


class MessageActions(Protocol):
    """``azurefunctions.extensions.bindings.servicebus.ServiceBusMessageActions``."""

    def complete(self, message: Any) -> None: ...

    def abandon(self, message: Any) -> None: ...

    def deadletter(self, message: Any, deadletter_reason: str | None = None,
                   deadletter_error_description: str | None = None) -> None: ...


@dataclass(frozen=True)
class Settled:
    """How a batch was settled: counts of each action taken, and of settlement failures."""

    completed: int = 0
    abandoned: int = 0
    dead_lettered: int = 0
    settlement_errors: int = 0


def body_bytes(message: ReceivedMessage) -> bytes:
    """The message body: the SDK gives a data body as an iterable of byte sections."""
    body = message.body
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, Iterable):
        return b"".join(bytes(section) for section in body)
    raise TypeError(f"unsupported message body {type(body).__name__}")


def read(message: ReceivedMessage) -> PaymentRequest | None:
    try:
        return PaymentRequest.from_json(body_bytes(message))
    except (KeyError, ValueError, TypeError, json.JSONDecodeError):
        return None


async def settle_batch(messages: Sequence[ReceivedMessage], actions: MessageActions,
                       handler: BatchHandler, *, dead_letter_unreadable: bool = True,
                       ) -> Settled:
    """Handle a batch and settle every message on its own outcome (see the module doc).

    ``dead_letter_unreadable`` is false for the dead-letter queue's own trigger: a message
    there cannot be dead-lettered again, so an unreadable one is logged and completed
    (its checkout is resolved by the reconciler when its payment window closes).
    """
    readable: list[tuple[ReceivedMessage, PaymentRequest]] = []
    settle: list[tuple[str, ReceivedMessage]] = []
    for message in messages:
        request = read(message)
        if request is None:
            log.error("payments: unreadable message %s (delivery %s)", message.message_id,
                      message.delivery_count)
            settle.append(("deadletter" if dead_letter_unreadable else "complete", message))
        else:
            readable.append((message, request))
    if readable:
        outcomes = await handler([request for _, request in readable])
        for (message, request), outcome in zip(readable, outcomes, strict=True):
            if isinstance(outcome, Exception):
                log.warning("payments: order %s failed on delivery %s (%r); abandoned for "
                            "redelivery", request.order_id, message.delivery_count, outcome)
                settle.append(("abandon", message))
            else:
                settle.append(("complete", message))
    results = await asyncio.gather(*(asyncio.to_thread(_settle, actions, action, message)
                                     for action, message in settle))
    counts = {"complete": 0, "abandon": 0, "deadletter": 0}
    errors = 0
    for (action, _), ok in zip(settle, results, strict=True):
        counts[action] += ok
        errors += not ok
    return Settled(completed=counts["complete"], abandoned=counts["abandon"],
                   dead_lettered=counts["deadletter"], settlement_errors=errors)


def _settle(actions: MessageActions, action: str, message: ReceivedMessage) -> bool:
    try:
        if action == "complete":
            actions.complete(message)
        elif action == "abandon":
            actions.abandon(message)
        else:
            actions.deadletter(message, deadletter_reason=UNREADABLE,
                               deadletter_error_description="not a payment request")
    except Exception:
        # The lock expires and the message comes again; the handler is idempotent.
        log.exception("payments: %s of message %s failed", action, message.message_id)
        return False
    return True
