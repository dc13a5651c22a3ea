"""Demo events that ``make run`` puts into an empty catalog, a few weeks ahead."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.models import Venue
from shared.services.catalog import CatalogService, EventDraft, TicketTypeDraft


def _evening(now: datetime, days: int, zone: str, at: time = time(19, 30)) -> datetime:
    """``at`` o'clock at the venue, ``days`` after ``now``: what an organiser would enter."""
    return datetime.combine(now.date() + timedelta(days=days), at, tzinfo=ZoneInfo(zone))


def drafts(now: datetime) -> list[EventDraft]:
    return [
        EventDraft(
            name="Northern Lights Festival",
            description="Three stages of electronic and indie acts by the harbour.",
            category="music", starts_at=_evening(now, 21, "Europe/Oslo"),
            venue=Venue("", "Harbour Arena", "Oslo", "Langkaia 1", "Norway", "Europe/Oslo"),
            currency="EUR", per_user_limit=6,
            ticket_types=(TicketTypeDraft("General admission", 5900, 400),
                          TicketTypeDraft("VIP", 14900, 40)),
        ),
        EventDraft(
            name="The Glass Quartet: Late Beethoven",
            description="The string quartets opp. 130-132 in one evening.",
            category="classical", starts_at=_evening(now, 9, "Europe/Berlin"),
            venue=Venue("", "Konzerthaus Hall", "Berlin", "Gendarmenmarkt", "Germany",
                        "Europe/Berlin"),
            currency="EUR",
            ticket_types=(TicketTypeDraft("Stalls", 4500, 120),
                          TicketTypeDraft("Balcony", 2800, 60)),
        ),
        EventDraft(
            name="City Derby: Final Match",
            description="The season's last derby. Gates open 90 minutes before kick-off.",
            category="sports", starts_at=_evening(now, 14, "Europe/Lisbon"),
            venue=Venue("", "Riverside Stadium", "Lisbon", "Av. do Rio 10", "Portugal",
                        "Europe/Lisbon"),
            currency="EUR", per_user_limit=4,
            ticket_types=(TicketTypeDraft("North stand", 3500, 300),
                          TicketTypeDraft("Main stand", 6500, 150)),
        ),
        EventDraft(
            name="Midnight Comedy Club",
            description="Five comedians, one microphone, no filter.",
            category="comedy", starts_at=_evening(now, 5, "Europe/Dublin"),
            venue=Venue("", "Cellar Stage", "Dublin", "Camden St 7", "Ireland", "Europe/Dublin"),
            currency="EUR", per_user_limit=4,
            ticket_types=(TicketTypeDraft("Seat", 2200, 10),),
        ),
    ]


async def seed(catalog: CatalogService, now: datetime | None = None) -> int:
    events = drafts(now or datetime.now(UTC))
    for draft in events:
        await catalog.create_event(draft)
    return len(events)
