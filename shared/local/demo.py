"""Demo events that ``make run`` puts into an empty catalog, a few weeks ahead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.models import Venue
from shared.services.catalog import CatalogService, EventDraft, TicketTypeDraft


def drafts(now: datetime) -> list[EventDraft]:
    day = now.replace(hour=19, minute=30, second=0, microsecond=0, tzinfo=UTC)
    return [
        EventDraft(
            name="Northern Lights Festival",
            description="Three stages of electronic and indie acts by the harbour.",
            category="music", starts_at=day + timedelta(days=21),
            venue=Venue("", "Harbour Arena", "Oslo", "Langkaia 1", "Norway"),
            currency="EUR", per_user_limit=6,
            ticket_types=(TicketTypeDraft("General admission", 5900, 400),
                          TicketTypeDraft("VIP", 14900, 40)),
        ),
        EventDraft(
            name="The Glass Quartet: Late Beethoven",
            description="The string quartets opp. 130-132 in one evening.",
            category="classical", starts_at=day + timedelta(days=9),
            venue=Venue("", "Konzerthaus Hall", "Berlin", "Gendarmenmarkt", "Germany"),
            currency="EUR",
            ticket_types=(TicketTypeDraft("Stalls", 4500, 120),
                          TicketTypeDraft("Balcony", 2800, 60)),
        ),
        EventDraft(
            name="City Derby: Final Match",
            description="The season's last derby. Gates open 90 minutes before kick-off.",
            category="sports", starts_at=day + timedelta(days=14),
            venue=Venue("", "Riverside Stadium", "Lisbon", "Av. do Rio 10", "Portugal"),
            currency="EUR", per_user_limit=4,
            ticket_types=(TicketTypeDraft("North stand", 3500, 300),
                          TicketTypeDraft("Main stand", 6500, 150)),
        ),
        EventDraft(
            name="Midnight Comedy Club",
            description="Five comedians, one microphone, no filter.",
            category="comedy", starts_at=day + timedelta(days=5),
            venue=Venue("", "Cellar Stage", "Dublin", "Camden St 7", "Ireland"),
            currency="EUR", per_user_limit=4,
            ticket_types=(TicketTypeDraft("Seat", 2200, 10),),
        ),
    ]


async def seed(catalog: CatalogService, now: datetime | None = None) -> int:
    events = drafts(now or datetime.now(UTC))
    for draft in events:
        await catalog.create_event(draft)
    return len(events)
