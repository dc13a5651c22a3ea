"""Signed ticket codes: what a ticket's QR code carries, checkable without the database.

A code is ``LT1.<ticket id>.<event id>.<mac>``: ``LT1`` names the format version, and the
MAC is HMAC-SHA256 over the version, ticket id and event id under the shop's ticket key,
truncated to 128 bits and written base64url (22 characters). Anyone holding the key (the
check-in API, or a scanner given the key) tells a forged or altered code from a real one
offline; whether the ticket was refunded or already used still needs the ledger.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

VERSION = "LT1"
KEY_BYTES = 32
_MAC_BYTES = 16
_PART = r"[A-Za-z0-9-]{1,64}"
_CODE = re.compile(rf"^{VERSION}\.({_PART})\.({_PART})\.([A-Za-z0-9_-]{{22}})$")
MAX_LENGTH = len(VERSION) + 3 + 64 + 64 + 22


@dataclass(frozen=True)
class SignedTicket:
    """What a genuine code says: which ticket, for which event."""

    ticket_id: str
    event_id: str


def _mac(key: bytes, ticket_id: str, event_id: str) -> str:
    digest = hmac.new(key, f"{VERSION}|{ticket_id}|{event_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:_MAC_BYTES]).decode().rstrip("=")


def sign(key: bytes, ticket_id: str, event_id: str) -> str:
    """The code printed on (and encoded in the QR code of) one ticket."""
    return f"{VERSION}.{ticket_id}.{event_id}.{_mac(key, ticket_id, event_id)}"


def verify(key: bytes, code: str) -> SignedTicket | None:
    """The ticket a code names when its MAC is genuine; None for anything forged, altered
    or malformed. Needs only the key (no database, no network)."""
    m = _CODE.match(code.strip())
    if m is None:
        return None
    ticket_id, event_id, mac = m.groups()
    if not hmac.compare_digest(mac, _mac(key, ticket_id, event_id)):
        return None
    return SignedTicket(ticket_id=ticket_id, event_id=event_id)
