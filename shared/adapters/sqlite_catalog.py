"""CatalogStore on an embedded SQLite file: one row per document, the JSON body beside the
few fields that listing filters and sorts on, and an etag per write. The local stand-in for
Cosmos DB; it passes the same contract tests (tests/integration/test_catalog_contract.py)."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from dataclasses import asdict
from pathlib import Path

import sqlalchemy as sa

from shared.adapters.sql_ledger import create_engine
from shared.adapters.sql_reads import reading
from shared.errors import EditConflict, InvalidInput
from shared.models import Event, Venue
from shared.ports import EventFilter

_meta = sa.MetaData()
documents = sa.Table(
    "documents",
    _meta,
    sa.Column("container", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("etag", sa.String(40), nullable=False),
    sa.Column("starts_at", sa.String(40), nullable=False, server_default=""),
    sa.Column("city", sa.Unicode(100), nullable=False, server_default=""),
    sa.Column("category", sa.Unicode(50), nullable=False, server_default=""),
    sa.Column("search", sa.UnicodeText, nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False, server_default=""),
    sa.Column("venue_id", sa.String(64), nullable=False, server_default=""),
    sa.Index("ix_documents_list", "container", "starts_at", "id"),
)

LISTED = ("on_sale",)


def _cursor(starts_at: str, event_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([starts_at, event_id]).encode()).decode()


def _after(cursor: str) -> tuple[str, str]:
    try:
        starts_at, event_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(starts_at), str(event_id)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("malformed cursor", field="cursor") from exc


class SqliteCatalog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(f"sqlite:///{path}")
        _meta.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    async def put_event(self, event: Event, if_match: str | None = None) -> Event:
        etag = uuid.uuid4().hex
        row = {
            "container": "events", "id": event.id,
            "body": json.dumps(event.to_document()), "etag": etag,
            "starts_at": event.starts_at, "city": event.venue.city.lower(),
            "category": event.category.lower(),
            "search": f"{event.name}\n{event.description}".lower(),
            "status": event.status, "venue_id": event.venue.id,
        }

        def run() -> None:
            with self.engine.begin() as c:
                key = (documents.c.container == "events") & (documents.c.id == event.id)
                update = sa.update(documents).where(key)
                if if_match is not None:
                    update = update.where(documents.c.etag == if_match)
                if c.execute(update.values(row)).rowcount == 0:
                    if if_match is not None:
                        raise EditConflict("the event changed since it was read; reload it")
                    c.execute(sa.insert(documents).values(row))

        await asyncio.to_thread(run)
        return Event.from_document(event.to_document(), etag)

    async def get_event(self, event_id: str) -> Event | None:
        def run() -> Event | None:
            with reading(self.engine) as c:
                row = c.execute(
                    sa.select(documents.c.body, documents.c.etag).where(
                        documents.c.container == "events", documents.c.id == event_id)
                ).first()
            return Event.from_document(json.loads(row.body), row.etag) if row else None

        return await asyncio.to_thread(run)

    async def list_events(self, filters: EventFilter, cursor: str | None,
                          limit: int) -> tuple[list[Event], str | None]:
        d = documents.c
        stmt = sa.select(d.body, d.etag).where(d.container == "events")
        if filters.listed_only:
            stmt = stmt.where(d.status.in_(LISTED))
        if filters.q:
            escaped = (filters.q.lower().replace("\\", "\\\\").replace("%", "\\%")
                       .replace("_", "\\_"))
            stmt = stmt.where(d.search.like(f"%{escaped}%", escape="\\"))
        if filters.city:
            stmt = stmt.where(d.city == filters.city.lower())
        if filters.category:
            stmt = stmt.where(d.category == filters.category.lower())
        if filters.venue_id:
            stmt = stmt.where(d.venue_id == filters.venue_id)
        if filters.starts_from:
            stmt = stmt.where(d.starts_at >= filters.starts_from)
        if filters.starts_to:
            stmt = stmt.where(d.starts_at < filters.starts_to)
        if cursor:
            stmt = stmt.where(sa.tuple_(d.starts_at, d.id) > sa.tuple_(*_after(cursor)))
        stmt = stmt.order_by(d.starts_at, d.id).limit(limit + 1)

        def run() -> tuple[list[Event], str | None]:
            with reading(self.engine) as c:
                rows = c.execute(stmt).all()
            events = [Event.from_document(json.loads(r.body), r.etag) for r in rows[:limit]]
            more = len(rows) > limit
            return events, _cursor(events[-1].starts_at, events[-1].id) if more else None

        return await asyncio.to_thread(run)

    async def count_events(self) -> int:
        def run() -> int:
            with reading(self.engine) as c:
                return int(c.execute(
                    sa.select(sa.func.count()).select_from(documents)
                    .where(documents.c.container == "events")
                ).scalar_one())

        return await asyncio.to_thread(run)

    async def put_venue(self, venue: Venue) -> Venue:
        row = {"container": "venues", "id": venue.id, "body": json.dumps(asdict(venue)),
               "etag": uuid.uuid4().hex, "starts_at": venue.name.lower(),
               "city": venue.city.lower()}

        def run() -> None:
            with self.engine.begin() as c:
                key = (documents.c.container == "venues") & (documents.c.id == venue.id)
                if c.execute(sa.update(documents).where(key).values(row)).rowcount == 0:
                    c.execute(sa.insert(documents).values(row))

        await asyncio.to_thread(run)
        return venue

    async def get_venue(self, venue_id: str) -> Venue | None:
        def run() -> Venue | None:
            with reading(self.engine) as c:
                body = c.execute(sa.select(documents.c.body).where(
                    documents.c.container == "venues", documents.c.id == venue_id)).scalar()
            return Venue(**json.loads(body)) if body else None

        return await asyncio.to_thread(run)

    async def list_venues(self, cursor: str | None,
                          limit: int) -> tuple[list[Venue], str | None]:
        d = documents.c
        stmt = sa.select(d.body, d.starts_at, d.id).where(d.container == "venues")
        if cursor:  # venues sort by name (kept in the starts_at column), then id
            stmt = stmt.where(sa.tuple_(d.starts_at, d.id) > sa.tuple_(*_after(cursor)))
        stmt = stmt.order_by(d.starts_at, d.id).limit(limit + 1)

        def run() -> tuple[list[Venue], str | None]:
            with reading(self.engine) as c:
                rows = c.execute(stmt).all()
            venues = [Venue(**json.loads(r.body)) for r in rows[:limit]]
            last = rows[limit - 1] if len(rows) > limit else None
            return venues, _cursor(last.starts_at, last.id) if last else None

        return await asyncio.to_thread(run)
