"""Identifiers. Hold and order ids embed their event id so a request for ``/api/holds/{H}``
can reach the event's Redis hash slot (``{event_id}``) without a cross-slot index.

Format: ``<event_id>.<32 hex>``. Event ids are UUIDs, which never contain a dot.
"""

from __future__ import annotations

import re
import secrets
import uuid

_EVENT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_CHILD_ID = re.compile(r"^([A-Za-z0-9-]{1,64})\.([0-9a-f]{32})$")


def new_id() -> str:
    return str(uuid.uuid4())


def new_child_id(event_id: str) -> str:
    """A hold or order id that routes to ``event_id``."""
    return f"{event_id}.{uuid.uuid4().hex}"


def new_degraded_child_id(event_id: str) -> str:
    """A hold or order id made in degraded mode (SQL): the same format, but the hex digit
    where a UUID4 always has its version ``4`` is ``d``, so every reader can route the id to
    the SQL ledger without a lookup (normal ids are ``uuid4().hex``)."""
    digits = uuid.uuid4().hex
    return f"{event_id}.{digits[:12]}d{digits[13:]}"


def is_degraded_id(child_id: str) -> bool:
    """True for a hold or order id minted in degraded mode (see ``new_degraded_child_id``)."""
    m = _CHILD_ID.match(child_id)
    return m is not None and m.group(2)[12] == "d"


def is_event_id(value: str) -> bool:
    return bool(_EVENT_ID.match(value))


def event_of(child_id: str) -> str | None:
    """The event id inside a hold or order id, or None when the id is malformed."""
    m = _CHILD_ID.match(child_id)
    return m.group(1) if m else None


_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_ticket_code() -> str:
    """A 20-character code printed on a ticket (100 bits of entropy, no ambiguous letters)."""
    bits = secrets.randbits(100)  # one draw, 5 bits per character (32 letters)
    return "".join(_CODE_ALPHABET[(bits >> (5 * i)) & 31] for i in range(20))
