"""CatalogStore on an embedded SQLite file: one row per document, the JSON body beside the
few fields that listing filters and sorts on. The local stand-in for Cosmos DB."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import sqlalchemy as sa

from shared.adapters.sql_ledger import create_engine
from shared.models import Event, now_ms

_meta = sa.MetaData()
documents = sa.Table(
    "documents",
    _meta,
    sa.Column("container", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("starts_at", sa.String(40), nullable=False, server_default=""),
    sa.Column("city", sa.Unicode(100), nullable=False, server_default=""),
    sa.Column("search", sa.UnicodeText, nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False, server_default=""),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Index("ix_documents_list", "container", "starts_at", "id"),
)

LISTED = ("on_sale",)


class SqliteCatalog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(f"sqlite:///{path}")
        _meta.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    async def put_event(self, event: Event) -> None:
        row = {
            "container": "events", "id": event.id,
            "body": json.dumps(event.to_document()),
            "starts_at": event.starts_at, "city": event.venue.city.lower(),
            "search": f"{event.name}\n{event.description}".lower(),
            "status": event.status, "updated_at": now_ms(),
        }

        def run() -> None:
            with self.engine.begin() as c:
                key = (documents.c.container == "events") & (documents.c.id == event.id)
                if c.execute(sa.update(documents).where(key).values(row)).rowcount == 0:
                    c.execute(sa.insert(documents).values(row))

        await asyncio.to_thread(run)

    async def get_event(self, event_id: str) -> Event | None:
        def run() -> Event | None:
            with self.engine.begin() as c:
                body = c.execute(
                    sa.select(documents.c.body).where(
                        documents.c.container == "events", documents.c.id == event_id)
                ).scalar()
            return Event.from_document(json.loads(body)) if body else None

        return await asyncio.to_thread(run)

    async def list_events(
        self, *, q: str | None, city: str | None, starts_from: str | None,
        starts_to: str | None, after: tuple[str, str] | None, limit: int,
    ) -> list[Event]:
        d = documents.c
        stmt = sa.select(d.body).where(d.container == "events", d.status.in_(LISTED))
        if q:
            escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(d.search.like(f"%{escaped}%", escape="\\"))
        if city:
            stmt = stmt.where(d.city == city.lower())
        if starts_from:
            stmt = stmt.where(d.starts_at >= starts_from)
        if starts_to:
            stmt = stmt.where(d.starts_at < starts_to)
        if after:
            stmt = stmt.where(sa.tuple_(d.starts_at, d.id) > sa.tuple_(*after))
        stmt = stmt.order_by(d.starts_at, d.id).limit(limit)

        def run() -> list[Event]:
            with self.engine.begin() as c:
                return [Event.from_document(json.loads(b)) for b in c.execute(stmt).scalars()]

        return await asyncio.to_thread(run)

    async def count_events(self) -> int:
        def run() -> int:
            with self.engine.begin() as c:
                return int(c.execute(
                    sa.select(sa.func.count()).select_from(documents)
                    .where(documents.c.container == "events")
                ).scalar_one())

        return await asyncio.to_thread(run)
