"""The composition root: builds adapters from settings and wires them into services.

Building connects to nothing; clients connect on first use, so the function app can build
its runtime at import time. ``migrate`` and ``close`` are explicit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster

from shared.adapters.argon2_hasher import Argon2Hasher
from shared.adapters.cosmos_catalog import CosmosCatalog
from shared.adapters.redis_catalog_cache import CachedCatalog
from shared.adapters.redis_idempotency import RedisIdempotency
from shared.adapters.redis_limits import RedisRateLimiter
from shared.adapters.redis_sessions import RedisRevocationFeed, RedisSessionCache
from shared.adapters.redis_store import RedisInventory
from shared.adapters.redis_stream_bus import RedisStreamBus, StreamNames
from shared.adapters.servicebus_bus import ServiceBusBus
from shared.adapters.simulated_gateway import SimulatedGateway
from shared.adapters.sql_ledger import SqlLedger
from shared.adapters.sqlite_catalog import SqliteCatalog
from shared.models import now_ms
from shared.ports import PaymentBus, PaymentGateway
from shared.services.accounts import AccountService
from shared.services.catalog import CatalogService
from shared.services.checkout import CheckoutService
from shared.services.finalize import Finalizer
from shared.services.holds import HoldService
from shared.services.inventory import InventoryService
from shared.services.limits import Limits
from shared.services.orders import OrderService
from shared.services.reconcile import Reconciler
from shared.settings import Settings

REDIS_SCOPE = "https://redis.azure.com/.default"


def connect_redis(settings: Settings) -> Redis | RedisCluster:
    if not settings.redis_url:
        raise ValueError("REDIS_URL is not set (the local host sets it for its redis-server)")
    """A client with a bounded pool: under a burst, requests wait briefly for a connection
    (``timeout``) instead of failing, and Redis never sees more than ``max_connections``.
    With REDIS_ENTRA_ID, connections authenticate with Entra ID tokens of the app's identity,
    renewed before they expire (no access key anywhere)."""
    options: dict[str, Any] = {"decode_responses": True, "socket_timeout": 5,
                               "socket_connect_timeout": 3}
    if settings.redis_entra_id:
        from redis_entraid.cred_provider import create_from_default_azure_credential

        options["credential_provider"] = create_from_default_azure_credential(
            (REDIS_SCOPE,))
    if settings.redis_cluster:
        return RedisCluster.from_url(settings.redis_url,
                                     max_connections=settings.redis_max_connections, **options)
    pool = BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=settings.redis_max_connections, timeout=10,
        health_check_interval=30, **options)
    return Redis(connection_pool=pool)


def open_catalog(settings: Settings) -> SqliteCatalog | CosmosCatalog:
    if settings.catalog_backend == "sqlite":
        return SqliteCatalog(settings.catalog_path)
    if settings.catalog_backend == "cosmos":
        if not settings.cosmos_endpoint:
            raise ValueError("CATALOG_BACKEND=cosmos needs COSMOS_ENDPOINT")
        return CosmosCatalog(settings.cosmos_endpoint, settings.cosmos_database,
                             key=settings.cosmos_key, verify_tls=settings.cosmos_verify_tls)
    raise ValueError(f"CATALOG_BACKEND={settings.catalog_backend!r}: use 'sqlite' or 'cosmos'")


@dataclass
class Runtime:
    settings: Settings
    redis: Redis | RedisCluster
    ledger: SqlLedger
    catalog_store: CachedCatalog
    gateway: PaymentGateway
    bus: PaymentBus
    store: RedisInventory
    inventory: InventoryService
    holds: HoldService
    checkout: CheckoutService
    orders: OrderService
    finalizer: Finalizer
    reconciler: Reconciler
    accounts: AccountService
    catalog: CatalogService
    limits: Limits
    idempotency: RedisIdempotency
    revocations: RedisRevocationFeed
    clock: Callable[[], int]

    @property
    def stream_names(self) -> StreamNames:
        return StreamNames.for_queue(self.settings.payments_queue)

    async def migrate(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        await self.ledger.migrate()

    async def close(self) -> None:
        await self.redis.aclose()
        if isinstance(self.bus, ServiceBusBus):
            await self.bus.close()
        if isinstance(self.gateway, SimulatedGateway):
            self.gateway.close()
        self.ledger.close()
        inner = self.catalog_store.store
        if isinstance(inner, CosmosCatalog):
            await inner.close()
        elif isinstance(inner, SqliteCatalog):
            inner.close()


def build_runtime(settings: Settings, *, gateway: PaymentGateway | None = None,
                  clock: Callable[[], int] = now_ms) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    redis = connect_redis(settings)
    ledger = SqlLedger.from_settings(settings)
    catalog_store = CachedCatalog(open_catalog(settings), redis)
    gateway = gateway or SimulatedGateway(settings.gateway_path)
    bus: PaymentBus
    if settings.bus_backend == "servicebus":
        bus = ServiceBusBus(queue=settings.payments_queue,
                            connection_string=settings.servicebus_connection,
                            namespace=settings.servicebus_namespace)
    elif settings.bus_backend == "redis":
        bus = RedisStreamBus(redis, settings.payments_queue)
    else:
        raise ValueError(f"BUS_BACKEND={settings.bus_backend!r}: use 'redis' or 'servicebus'")
    store = RedisInventory(redis)
    inventory = InventoryService(store, ledger, catalog_store)
    finalizer = Finalizer(store, ledger, gateway, clock)
    hasher = Argon2Hasher(time_cost=settings.argon2_time_cost,
                          memory_kib=settings.argon2_memory_kib,
                          parallelism=settings.argon2_parallelism)
    limits = Limits(RedisRateLimiter(redis), settings, clock)
    revocations = RedisRevocationFeed(redis)
    return Runtime(
        settings=settings, redis=redis, ledger=ledger, catalog_store=catalog_store,
        gateway=gateway, bus=bus, store=store, inventory=inventory,
        holds=HoldService(store, inventory, settings, clock, limits),
        checkout=CheckoutService(store, bus, settings, clock, limits),
        orders=OrderService(store, ledger),
        finalizer=finalizer,
        reconciler=Reconciler(store, ledger, inventory, finalizer, settings),
        accounts=AccountService(ledger, ledger, RedisSessionCache(redis), hasher, settings,
                                clock, limits=limits, feed=revocations),
        catalog=CatalogService(catalog_store, ledger, inventory, settings, clock, ledger,
                               source=catalog_store.store),
        limits=limits, idempotency=RedisIdempotency(redis), revocations=revocations,
        clock=clock,
    )
