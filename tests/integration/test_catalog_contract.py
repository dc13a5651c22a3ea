"""One contract for every CatalogStore: the embedded SQLite store and the Cosmos DB adapter,
the latter over the wire against a Cosmos protocol server (@vercel/cosmosdb-server) with
the official azure-cosmos client."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from shared.adapters.cosmos_catalog import CosmosCatalog, build_query
from shared.adapters.sqlite_catalog import SqliteCatalog
from shared.errors import EditConflict, InvalidInput
from shared.models import Event, TicketType, Venue
from shared.ports import EventFilter
from tests.conftest import COSMOS_EMULATOR_KEY

Store = SqliteCatalog | CosmosCatalog


@pytest.fixture(params=["sqlite", "cosmos"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        sqlite = SqliteCatalog(tmp_path / "catalog.sqlite")
        yield sqlite
        sqlite.close()
    else:
        endpoint = request.getfixturevalue("cosmos_endpoint")
        cosmos = CosmosCatalog(endpoint, f"test-{uuid.uuid4().hex[:8]}",
                               key=COSMOS_EMULATOR_KEY, verify_tls=False)
        yield cosmos
        await cosmos.close()


def event(name: str, starts_at: str, *, city: str = "Lisbon", category: str = "music",
          status: str = "on_sale", description: str = "") -> Event:
    return Event(
        id=str(uuid.uuid4()), name=name, description=description, category=category,
        starts_at=starts_at, venue=Venue(str(uuid.uuid4()), "Hall", city),
        ticket_types=(TicketType(str(uuid.uuid4()), "GA", 2500, "EUR", 100),),
        currency="EUR", per_user_limit=8, status=status)


async def test_put_and_get_round_trip_with_an_etag(store: Store) -> None:
    e = event("Round trip", "2027-01-01T20:00:00Z", description="with a description")
    saved = await store.put_event(e)
    assert saved.etag
    got = await store.get_event(e.id)
    assert got is not None and got.etag == saved.etag
    assert replace(got, etag="") == e


async def test_an_edit_under_a_stale_etag_is_refused(store: Store) -> None:
    saved = await store.put_event(event("Concurrent", "2027-01-01T20:00:00Z"))
    first = await store.put_event(replace(saved, name="Edit A"), if_match=saved.etag)
    assert first.etag != saved.etag
    with pytest.raises(EditConflict):
        await store.put_event(replace(saved, name="Edit B"), if_match=saved.etag)
    current = await store.get_event(saved.id)
    assert current is not None and current.name == "Edit A"


async def test_listing_filters_sorts_and_pages(store: Store) -> None:
    made = [
        await store.put_event(event(f"Night {i}", f"2027-0{i + 1}-01T20:00:00Z",
                                    city="Porto" if i % 2 else "Lisbon",
                                    category="comedy" if i == 3 else "music"))
        for i in range(5)
    ]
    await store.put_event(event("Draft night", "2027-01-15T20:00:00Z", status="draft"))
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page, cursor = await store.list_events(EventFilter(q="night"), cursor, 2)
        assert len(page) <= 2
        seen += [e.name for e in page]
        if cursor is None:
            break
    assert seen == [e.name for e in made]  # by start time; drafts not listed
    porto, _ = await store.list_events(EventFilter(city="PORTO"), None, 10)
    assert [e.name for e in porto] == ["Night 1", "Night 3"]
    comedy, _ = await store.list_events(EventFilter(category="comedy"), None, 10)
    assert [e.name for e in comedy] == ["Night 3"]
    window, _ = await store.list_events(
        EventFilter(starts_from="2027-02-01T00:00:00Z", starts_to="2027-04-01T00:00:00Z"),
        None, 10)
    assert [e.name for e in window] == ["Night 1", "Night 2"]
    everything, _ = await store.list_events(EventFilter(listed_only=False), None, 10)
    assert "Draft night" in [e.name for e in everything]
    assert await store.count_events() == 6


async def test_text_search_is_a_parameter_not_sql(store: Store) -> None:
    await store.put_event(event("Quote's night", "2027-01-01T20:00:00Z"))
    found, _ = await store.list_events(EventFilter(q="quote's"), None, 10)
    assert [e.name for e in found] == ["Quote's night"]
    nothing, _ = await store.list_events(EventFilter(q="%' OR 1=1 --"), None, 10)
    assert nothing == []


async def test_a_malformed_cursor_is_an_input_error(store: Store) -> None:
    with pytest.raises(InvalidInput):
        await store.list_events(EventFilter(), "%%%not-a-cursor", 10)


async def test_a_missing_event_is_none(store: Store) -> None:
    if isinstance(store, CosmosCatalog):
        # The protocol server answers a point read of a missing item with an error that is
        # not 404 (real Cosmos DB answers 404). Covered below against the adapter's mapping.
        pytest.skip("cosmosdb-server lacks 404 on point reads; see the next test")
    assert await store.get_event(str(uuid.uuid4())) is None


async def test_cosmos_maps_404_to_none() -> None:
    from azure.cosmos.exceptions import CosmosResourceNotFoundError

    class Missing:
        async def read_item(self, item: str, partition_key: str) -> None:
            raise CosmosResourceNotFoundError(  # type: ignore[no-untyped-call]
                status_code=404, message="not found")

    cosmos = CosmosCatalog("https://127.0.0.1:1", "db", key=COSMOS_EMULATOR_KEY)
    cosmos._events = Missing()  # type: ignore[assignment]
    assert await cosmos.get_event("nope") is None
    await cosmos.close()


def test_cosmos_query_is_parameterized() -> None:
    sql, params = build_query(EventFilter(q="x' OR '1'='1", city="Porto", category="Music"))
    assert "x'" not in sql and "Porto" not in sql
    assert {p["name"]: p["value"] for p in params}["@q"] == "x' or '1'='1"
    assert sql.endswith("ORDER BY c.starts_at, c.id")


async def test_venues_round_trip_and_list_by_name(store: Store) -> None:
    names = ["Zenith", "Atrium", "Mill"]
    made = [await store.put_venue(Venue(str(uuid.uuid4()), n, "Porto", "1 Rua", "PT",
                                        "Europe/Lisbon")) for n in names]
    got = await store.get_venue(made[0].id)
    assert got == made[0]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page, cursor = await store.list_venues(cursor, 2)
        seen += [v.name for v in page]
        if cursor is None:
            break
    assert seen == sorted(names)
    await store.put_venue(replace(made[0], name="Zenith Hall"))
    assert (await store.get_venue(made[0].id)).name == "Zenith Hall"  # type: ignore[union-attr]


def test_documents_from_before_venue_zones_read_as_utc() -> None:
    doc = event("Old", "2027-01-01T20:00:00Z").to_document()
    del doc["venue"]["timezone"]
    assert Event.from_document(doc).venue.timezone == "UTC"
