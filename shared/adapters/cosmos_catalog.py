"""CatalogStore on Azure Cosmos DB (NoSQL API), with the official ``azure-cosmos`` async client.

Container ``venues``, partition key ``/id``: venues are few, read by id (the event page
embeds a copy; the organiser pages read them) and listed rarely by name.

Container ``events``, partition key ``/id``: the hot read is an event by id, a point read
(1 RU) inside one logical partition, and every event is its own small partition, so writes
and reads spread evenly however many events there are. Listing is a cross-partition query
ordered by ``starts_at, id`` (served by the composite index declared below) and paged with
Cosmos continuation tokens; it is the read the Redis cache absorbs, so its fan-out is paid
once per cache refill, not per visitor. Updates are optimistic: ``if_match`` sends the
document's ``_etag`` and a concurrent change answers 412 -> EditConflict.

Authentication: an account key (the emulator) or, with no key, ``DefaultAzureCredential``
(a managed identity in Azure, with the data-plane role "Cosmos DB Built-in Data Contributor").
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from typing import Any

from azure.core import MatchConditions
from azure.cosmos import PartitionKey
from azure.cosmos.aio import ContainerProxy, CosmosClient
from azure.cosmos.exceptions import CosmosAccessConditionFailedError, CosmosResourceNotFoundError

from shared.errors import EditConflict, InvalidInput
from shared.models import Event, Venue
from shared.ports import EventFilter
from shared.zones import DEFAULT_TIMEZONE

EVENTS_POLICY: dict[str, Any] = {
    "indexingMode": "consistent",
    "includedPaths": [{"path": "/*"}],
    "excludedPaths": [{"path": "/description/?"}, {"path": '/"_etag"/?'}],
    "compositeIndexes": [[{"path": "/starts_at", "order": "ascending"},
                          {"path": "/id", "order": "ascending"}]],
}
VENUES_POLICY: dict[str, Any] = {
    "indexingMode": "consistent",
    "includedPaths": [{"path": "/*"}],
    "excludedPaths": [{"path": '/"_etag"/?'}],
    "compositeIndexes": [[{"path": "/name_lc", "order": "ascending"},
                          {"path": "/id", "order": "ascending"}]],
}
LISTED = ("on_sale",)
_SYSTEM = ("_rid", "_self", "_etag", "_attachments", "_ts", "search", "city_lc",
           "category_lc")


def build_query(filters: EventFilter) -> tuple[str, list[dict[str, Any]]]:
    """The parameterized listing query; values never enter the SQL text."""
    where: list[str] = []
    params: list[dict[str, Any]] = []

    def add(clause: str, name: str, value: Any) -> None:
        where.append(clause)
        params.append({"name": name, "value": value})

    if filters.listed_only:
        add("ARRAY_CONTAINS(@listed, c.status)", "@listed", list(LISTED))
    if filters.q:
        add("CONTAINS(c.search, @q)", "@q", filters.q.lower())
    if filters.city:
        add("c.city_lc = @city", "@city", filters.city.lower())
    if filters.category:
        add("c.category_lc = @category", "@category", filters.category.lower())
    if filters.venue_id:
        add("c.venue.id = @venue", "@venue", filters.venue_id)
    if filters.starts_from:
        add("c.starts_at >= @from", "@from", filters.starts_from)
    if filters.starts_to:
        add("c.starts_at < @to", "@to", filters.starts_to)
    sql = "SELECT * FROM c"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql + " ORDER BY c.starts_at, c.id", params


def to_item(event: Event) -> dict[str, Any]:
    """The stored item: the document plus lower-cased fields the listing query filters on."""
    item = event.to_document()
    item["search"] = f"{event.name}\n{event.description}".lower()
    item["city_lc"] = event.venue.city.lower()
    item["category_lc"] = event.category.lower()
    return item


def from_item(item: dict[str, Any]) -> Event:
    return Event.from_document({k: v for k, v in item.items() if k not in _SYSTEM},
                               str(item.get("_etag", "")))


def _venue(item: dict[str, Any]) -> Venue:
    return Venue(**{k: item[k] for k in ("id", "name", "city", "address", "country")},
                 timezone=item.get("timezone") or DEFAULT_TIMEZONE)


def wrap_token(token: str | None) -> str | None:
    return base64.urlsafe_b64encode(token.encode()).decode() if token else None


def unwrap_token(cursor: str) -> str:
    try:
        token = base64.urlsafe_b64decode(cursor.encode()).decode()
        json.loads(token)  # Cosmos continuation tokens are JSON documents
        return token
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("malformed cursor", field="cursor") from exc


class CosmosCatalog:
    def __init__(self, endpoint: str, database: str, *, key: str = "",
                 verify_tls: bool = True) -> None:
        credential: Any = key
        if not key:
            from azure.identity.aio import DefaultAzureCredential

            credential = DefaultAzureCredential()
        self._client = CosmosClient(endpoint, credential=credential,
                                    connection_verify=verify_tls)
        self._database_name = database
        self._events: ContainerProxy | None = None
        self._venues: ContainerProxy | None = None

    async def _container(self) -> ContainerProxy:
        if self._events is None:
            db = await self._client.create_database_if_not_exists(self._database_name)
            self._events = await db.create_container_if_not_exists(
                "events", PartitionKey(path="/id"), indexing_policy=EVENTS_POLICY)
        return self._events

    async def _venue_container(self) -> ContainerProxy:
        if self._venues is None:
            db = await self._client.create_database_if_not_exists(self._database_name)
            self._venues = await db.create_container_if_not_exists(
                "venues", PartitionKey(path="/id"), indexing_policy=VENUES_POLICY)
        return self._venues

    async def close(self) -> None:
        await self._client.close()

    async def put_event(self, event: Event, if_match: str | None = None) -> Event:
        container = await self._container()
        item = to_item(event)
        try:
            if if_match is None:
                saved = await container.upsert_item(item)
            else:
                saved = await container.replace_item(
                    event.id, item, etag=if_match, match_condition=MatchConditions.IfNotModified)
        except CosmosAccessConditionFailedError as exc:
            raise EditConflict("the event changed since it was read; reload it") from exc
        return from_item(saved)

    async def get_event(self, event_id: str) -> Event | None:
        container = await self._container()
        try:
            return from_item(await container.read_item(event_id, partition_key=event_id))
        except CosmosResourceNotFoundError:
            return None

    async def list_events(self, filters: EventFilter, cursor: str | None,
                          limit: int) -> tuple[list[Event], str | None]:
        container = await self._container()
        sql, params = build_query(filters)
        pages: Any = container.query_items(sql, parameters=params,
                                           max_item_count=limit).by_page(
            unwrap_token(cursor) if cursor else None)
        try:
            page = await pages.__anext__()
        except StopAsyncIteration:
            return [], None
        events = [from_item(item) async for item in page]
        return events, wrap_token(pages.continuation_token)

    async def count_events(self) -> int:
        container = await self._container()
        counts: list[Any] = [n async for n in container.query_items(
            "SELECT VALUE COUNT(1) FROM c")]
        return int(sum(counts))

    async def put_venue(self, venue: Venue) -> Venue:
        container = await self._venue_container()
        await container.upsert_item({**asdict(venue), "name_lc": venue.name.lower()})
        return venue

    async def get_venue(self, venue_id: str) -> Venue | None:
        container = await self._venue_container()
        try:
            item = await container.read_item(venue_id, partition_key=venue_id)
        except CosmosResourceNotFoundError:
            return None
        return _venue(item)

    async def list_venues(self, cursor: str | None,
                          limit: int) -> tuple[list[Venue], str | None]:
        container = await self._venue_container()
        pages: Any = container.query_items(
            "SELECT * FROM c ORDER BY c.name_lc, c.id", max_item_count=limit).by_page(
            unwrap_token(cursor) if cursor else None)
        try:
            page = await pages.__anext__()
        except StopAsyncIteration:
            return [], None
        venues = [_venue(i) async for i in page]
        return venues, wrap_token(pages.continuation_token)
