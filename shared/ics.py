"""An iCalendar (RFC 5545) entry for an order's event, for "add to calendar".

The start is written in UTC (``...Z``): every calendar shows it in its owner's zone without a
VTIMEZONE block. Events carry no end time, so the entry has none (RFC 5545: it then ends
when it starts) rather than a made-up one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shared.models import Event, Order


def _text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    out: list[str] = []
    current = b""
    for ch in line:
        b = ch.encode()
        if len(current) + len(b) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += b
    out.append(current.decode())
    return "\r\n ".join(out)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def order_calendar(order: Order, event: Event, url: str = "") -> str:
    v = event.venue
    where = ", ".join(p for p in (v.name, v.address, v.city, v.country) if p)
    count = len(order.tickets)
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Leap Ticketing//Tickets//EN",
        "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "BEGIN:VEVENT",
        f"UID:{order.id}@leap-ticketing",
        f"DTSTAMP:{_stamp(datetime.fromtimestamp(order.created_at / 1000, UTC))}",
        f"DTSTART:{_stamp(datetime.fromisoformat(event.starts_at.replace('Z', '+00:00')))}",
        f"SUMMARY:{_text(event.name)}",
        f"LOCATION:{_text(where)}",
        "DESCRIPTION:" + _text(f"{count} ticket{'s' if count != 1 else ''}, order {order.id}."
                               + (f" Your tickets: {url}" if url else "")),
    ]
    if url:
        lines.append(f"URL:{url}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(_fold(line) + "\r\n" for line in lines)
