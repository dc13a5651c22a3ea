"""Venue time zones: IANA names (``Europe/Berlin``) checked against the tz database.

Events are stored as UTC instants; a venue's zone is what the web app shows them in (the
buyer reads the time printed on the ticket, not their own clock) and what the organiser
form interprets the wall-clock time it is given in. Venues stored before zones existed read
as ``UTC`` (``DEFAULT_TIMEZONE``): correct instants, shown with an explicit "UTC".
"""

from __future__ import annotations

import functools
import zoneinfo

DEFAULT_TIMEZONE = "UTC"


@functools.cache
def _names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_timezone(name: str) -> bool:
    """True for ``UTC`` or an Area/Location zone of the tz database (never opens a file for
    other strings). Legacy aliases and host entries without an area (``EST``, ``Japan``,
    ``localtime``) are refused: browsers may not know them, and a venue is somewhere."""
    return name == DEFAULT_TIMEZONE or ("/" in name and name in _names())
