"""Identifiers. Hold and order ids embed their event id so a request for ``/api/holds/{H}``
can reach the event's Redis hash slot (``{event_id}``) without a cross-slot index.

Format: ``<event_id>.<32 hex>``. Event ids are UUIDs, which never contain a dot.

Every id is a version 7 UUID (RFC 9562): the creation time in milliseconds, then 74 random
bits. Ids made close in time sort close together, so the ledger's indexes on them (orders,
tickets, payments, the email outbox) take each batch's rows into the same few pages at their
right-hand end; with random (version 4) ids every order dirtied a page of its own in each
such index, about ten pages written per order (docs/architecture.md §8). The random part
keeps them unguessable; the time they tell is the creation time the records show anyway.
"""

from __future__ import annotations

import os
import re
import secrets
import time

_EVENT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_CHILD_ID = re.compile(r"^([A-Za-z0-9-]{1,64})\.([0-9a-f]{32})$")


def _uuid7_hex() -> str:
    """A version 7 UUID's 32 hex digits, without building a UUID object (a hold, an order
    and each ticket take one on the purchase path; ``uuid4`` showed as ~2 % of a worker in
    the on-sale profile): the Unix time in ms (48 bits), then random bits with the version
    (7) and variant (10xx) bits set as RFC 9562 says."""
    raw = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10))
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return raw.hex()


def new_id() -> str:
    """A time-ordered random UUID (version 7), in its canonical form."""
    h = _uuid7_hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_child_id(event_id: str) -> str:
    """A hold or order id that routes to ``event_id``."""
    return f"{event_id}.{_uuid7_hex()}"


def new_degraded_child_id(event_id: str) -> str:
    """A hold or order id made in degraded mode (SQL): the same format, but the hex digit
    where a UUID always has its version (``7``) is ``d``, so every reader can route the id to
    the SQL ledger without a lookup."""
    digits = _uuid7_hex()
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
