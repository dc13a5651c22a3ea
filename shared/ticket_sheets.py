"""What a printed ticket shows, and event times written in the venue's time zone (the time
printed on a ticket is the one at the door, not the reader's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from shared.zones import DEFAULT_TIMEZONE, is_timezone


@dataclass(frozen=True)
class TicketSheet:
    """One ticket's page."""

    event_name: str
    when: str  # the start, written in the venue's time zone
    venue: str  # name and address on one line
    ticket_type: str
    state: str
    code: str
    reference: str
    order_id: str


def venue_time(starts_at: str, timezone: str) -> str:
    """``Saturday 1 May 2027, 19:30 CEST`` in the venue's zone."""
    zone = ZoneInfo(timezone if is_timezone(timezone) else DEFAULT_TIMEZONE)
    local = datetime.fromisoformat(starts_at.replace("Z", "+00:00")).astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname()}"
