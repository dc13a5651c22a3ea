"""Door check-in values: who may scan at an event, and what a scan answers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ScanResult(StrEnum):
    ADMITTED = "admitted"
    ALREADY_CHECKED_IN = "already_checked_in"
    REFUNDED = "refunded"  # the ticket's order is no longer confirmed
    WRONG_EVENT = "wrong_event"
    FORGED = "forged"  # the code's signature is not ours (or the code is not one of ours)
    UNKNOWN_TICKET = "unknown_ticket"  # genuinely signed, but no such ticket in the ledger


@dataclass(frozen=True)
class Scan:
    """The answer to one scan. ``checked_in_at``/``checked_in_by`` say when and by whom the
    ticket was let in (this scan when admitted, the earlier one when already checked in)."""

    result: ScanResult
    ticket_id: str | None = None
    event_id: str | None = None
    ticket_type_id: str | None = None
    checked_in_at: int | None = None
    checked_in_by: str | None = None  # the staff member's display name

    @property
    def admitted(self) -> bool:
        return self.result == ScanResult.ADMITTED


@dataclass(frozen=True)
class StaffMember:
    user_id: str
    email: str
    display_name: str
    granted_at: int


@dataclass(frozen=True)
class DoorCounts:
    checked_in: int
    tickets: int  # tickets of confirmed orders
