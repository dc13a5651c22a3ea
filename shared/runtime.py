"""The composition root: builds adapters from settings and wires them into services.

Building connects to nothing; clients connect on first use, so the function app can build
its runtime at import time. ``migrate`` and ``close`` are explicit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from shared.adapters import pdf_tickets
from shared.adapters.acs_mail import AcsMail
from shared.adapters.argon2_hasher import Argon2Hasher
from shared.adapters.blob_images import BlobImages
from shared.adapters.cosmos_catalog import CosmosCatalog
from shared.adapters.memory_limits import MemoryRateLimiter
from shared.adapters.redis_catalog_cache import CachedCatalog
from shared.adapters.redis_console import RedisConsoleStore
from shared.adapters.redis_guard import GuardedRedis, GuardedRedisCluster, bypass
from shared.adapters.redis_idempotency import RedisIdempotency
from shared.adapters.redis_limits import RedisRateLimiter
from shared.adapters.redis_order_notices import RedisOrderNotices
from shared.adapters.redis_outbox import RedisOutbox
from shared.adapters.redis_pool import WaitingConnectionPool
from shared.adapters.redis_sessions import RedisRevocationFeed, RedisSessionCache
from shared.adapters.redis_store import RedisInventory
from shared.adapters.redis_stream_bus import RedisStreamBus, StreamNames
from shared.adapters.redis_waiting_room import RedisWaitingRoom
from shared.adapters.redis_waitlist import RedisWaitlist
from shared.adapters.servicebus_bus import ServiceBusBus
from shared.adapters.simulated_gateway import SimulatedGateway
from shared.adapters.smtp_mail import SmtpMail
from shared.adapters.sql_console import SqlConsole
from shared.adapters.sql_door import SqlDoor
from shared.adapters.sql_email_outbox import SqlEmailOutbox
from shared.adapters.sql_holds import SqlHolds
from shared.adapters.sql_ledger import SqlLedger
from shared.adapters.sqlite_catalog import SqliteCatalog
from shared.adapters.ticket_key import ticket_key
from shared.breaker import CircuitBreaker
from shared.models import now_ms
from shared.ports import MailSender, PaymentBus, PaymentGateway
from shared.services.accounts import AccountService
from shared.services.cancellation import CancellationService
from shared.services.catalog import CatalogService
from shared.services.checkout import CheckoutService
from shared.services.confirmation_email import ConfirmationEmails
from shared.services.console import ConsoleService
from shared.services.degraded import DegradedPurchases
from shared.services.degraded_recovery import Recovery
from shared.services.door import DoorService
from shared.services.finalize import Finalizer
from shared.services.holds import HoldService
from shared.services.images import ImageService
from shared.services.inventory import InventoryService
from shared.services.limits import Limits
from shared.services.order_documents import OrderDocuments
from shared.services.order_waits import OrderWaits
from shared.services.orders import OrderService
from shared.services.outbox import OutboxRelay
from shared.services.reconcile import Reconciler
from shared.services.refunds import RefundService
from shared.services.waiting_room import WaitingRoomService
from shared.services.waitlist import WaitlistService
from shared.services.waitlist_email import WaitlistOfferMail
from shared.settings import Settings

REDIS_SCOPE = "https://redis.azure.com/.default"


def connect_redis(settings: Settings,
                  breaker: CircuitBreaker | None = None) -> Redis | RedisCluster:
    """A client with a bounded pool: under a burst, requests wait briefly for a connection
    (``timeout``) instead of failing, and Redis never sees more than ``max_connections``.
    With REDIS_ENTRA_ID, connections authenticate with Entra ID tokens of the app's identity,
    renewed before they expire (no access key anywhere). Every command passes ``breaker``
    (``adapters/redis_guard``); one quick retry absorbs a dropped connection, instead of the
    client's default seconds of backoff that would hold every request during an outage."""
    if not settings.redis_url:
        raise ValueError("REDIS_URL is not set (the local host sets it for its redis-server)")
    breaker = breaker or CircuitBreaker("redis")
    options: dict[str, Any] = {"decode_responses": True, "socket_timeout": 5,
                               "socket_connect_timeout": 3,
                               "retry": Retry(ExponentialBackoff(cap=0.05, base=0.01), 1)}
    if settings.redis_entra_id:
        from redis_entraid.cred_provider import create_from_default_azure_credential

        options["credential_provider"] = create_from_default_azure_credential(
            (REDIS_SCOPE,))
    client: GuardedRedis | GuardedRedisCluster
    if settings.redis_cluster:
        client = GuardedRedisCluster.from_url(  # type: ignore[assignment]
            settings.redis_url, max_connections=settings.redis_max_connections, **options)
    else:
        pool = WaitingConnectionPool.from_url(
            settings.redis_url, max_connections=settings.redis_max_connections, timeout=10,
            health_check_interval=30, **options)
        client = GuardedRedis(connection_pool=pool)
    client.breaker = breaker
    return client


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
    order_notices: RedisOrderNotices
    order_waits: OrderWaits
    finalizer: Finalizer
    reconciler: Reconciler
    accounts: AccountService
    catalog: CatalogService
    limits: Limits
    idempotency: RedisIdempotency
    revocations: RedisRevocationFeed
    clock: Callable[[], int]
    breaker: CircuitBreaker
    sql_holds: SqlHolds
    degraded: DegradedPurchases
    recovery: Recovery
    waiting_room: WaitingRoomService
    outbox: RedisOutbox
    outbox_relay: OutboxRelay
    door: DoorService
    documents: OrderDocuments
    emails: ConfirmationEmails
    # issue 15: the organiser console and refunds
    console: ConsoleService
    refunds: RefundService
    cancellations: CancellationService
    images: ImageService
    image_store: BlobImages
    # issue 16: the waiting list
    waitlist: WaitlistService

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
        await self.image_store.close()
        inner = self.catalog_store.store
        if isinstance(inner, CosmosCatalog):
            await inner.close()
        elif isinstance(inner, SqliteCatalog):
            inner.close()


def mail_sender(settings: Settings) -> MailSender:
    if settings.mail_backend == "acs":
        return AcsMail(settings.acs_endpoint, settings.mail_from)
    return SmtpMail(settings.smtp_host or "127.0.0.1", settings.smtp_port, settings.mail_from)


def build_runtime(settings: Settings, *, gateway: PaymentGateway | None = None,
                  clock: Callable[[], int] = now_ms) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    breaker = CircuitBreaker("redis", failures=settings.breaker_failures,
                             open_seconds=settings.breaker_open_seconds,
                             max_open_seconds=settings.breaker_max_open_seconds)
    redis = connect_redis(settings, breaker)
    ledger = SqlLedger.from_settings(settings)
    sql_holds = SqlHolds(ledger)
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
    # The local stream lives in the same Redis: checkout.lua queues the payment message itself.
    store = RedisInventory(redis, queue=bus if isinstance(bus, RedisStreamBus) else None)
    memory_limits = MemoryRateLimiter()
    degraded = DegradedPurchases(sql_holds, ledger, catalog_store, bus, memory_limits,
                                 settings, clock, lambda: breaker.is_open)
    inventory = InventoryService(store, ledger, catalog_store, degraded.availability)
    order_notices = RedisOrderNotices(redis)
    email_outbox = SqlEmailOutbox(ledger)
    waitlist = WaitlistService(RedisWaitlist(redis), email_outbox, inventory, settings, clock,
                               degraded=lambda: breaker.is_open)
    inventory.tickets_returned = waitlist.tickets_returned
    finalizer = Finalizer(store, ledger, gateway, clock, sql_holds, order_notices,
                          returned=waitlist.tickets_returned)
    hasher = Argon2Hasher(time_cost=settings.argon2_time_cost,
                          memory_kib=settings.argon2_memory_kib,
                          parallelism=settings.argon2_parallelism)
    limits = Limits(RedisRateLimiter(redis), settings, clock, fallback=memory_limits)
    revocations = RedisRevocationFeed(redis)
    accounts = AccountService(ledger, ledger, RedisSessionCache(redis), hasher, settings,
                              clock, limits=limits, feed=revocations)

    async def flush_revocations(_events: Sequence[str]) -> None:
        await accounts.flush_revocations()

    async def refresh_catalog_cache(events: Sequence[str]) -> None:
        # Catalog writes made while Redis was down could not invalidate its copies.
        await catalog_store.invalidate([f"cat:event:{e}" for e in events])

    recovery = Recovery(store, sql_holds, ledger, inventory, finalizer, bus,
                        lambda: breaker.is_open,
                        on_recovered=(flush_revocations, refresh_catalog_cache))

    async def probe() -> None:
        with bypass():  # the breaker is open: this is the one caller allowed through
            await redis.ping()
            await recovery.merge_all(clock())

    breaker.set_probe(probe)
    catalog = CatalogService(catalog_store, ledger, inventory, settings, clock, ledger,
                             source=catalog_store.store)
    outbox = RedisOutbox(redis)
    door = DoorService(SqlDoor(ledger), ledger, catalog_store, ledger, ticket_key(settings),
                       clock)
    orders = OrderService(store, ledger, degraded)
    console_ledger = SqlConsole(ledger)
    live = RedisConsoleStore(redis)
    image_store = BlobImages(settings)
    refunds = RefundService(console_ledger, gateway, live, catalog_store, ledger, clock,
                            returned=waitlist.tickets_returned)

    def public_url() -> str:
        return settings.public_url or f"http://{settings.host}:{settings.port}"

    mail_domain = settings.mail_from.rpartition("@")[2]
    return Runtime(
        settings=settings, redis=redis, ledger=ledger, catalog_store=catalog_store,
        gateway=gateway, bus=bus, store=store, inventory=inventory,
        holds=HoldService(store, inventory, settings, clock, limits, degraded,
                          returned=waitlist.tickets_returned),
        checkout=CheckoutService(store, bus, outbox, settings, clock, limits, degraded),
        orders=orders, order_notices=order_notices, order_waits=OrderWaits(),
        finalizer=finalizer,
        reconciler=Reconciler(store, ledger, inventory, finalizer, settings, recovery,
                              waitlist=waitlist.offer),
        accounts=accounts,
        catalog=catalog,
        limits=limits, idempotency=RedisIdempotency(redis), revocations=revocations,
        clock=clock, breaker=breaker, sql_holds=sql_holds, degraded=degraded,
        recovery=recovery,
        waiting_room=WaitingRoomService(RedisWaitingRoom(redis), catalog, ledger, settings,
                                        clock),
        outbox=outbox, outbox_relay=OutboxRelay(outbox, bus, ledger),
        door=door,
        documents=OrderDocuments(orders, catalog_store, door, pdf_tickets.render),
        emails=ConfirmationEmails(
            email_outbox, ledger, ledger, catalog_store, door, pdf_tickets.render,
            mail_sender(settings), public_url=public_url, mail_domain=mail_domain, clock=clock,
            waitlist=WaitlistOfferMail(email_outbox, ledger, catalog_store,
                                       public_url=public_url, mail_domain=mail_domain)),
        console=ConsoleService(catalog_store, ledger, console_ledger, live, store, inventory,
                               ledger, clock, waiting=waitlist.waiting),
        refunds=refunds,
        cancellations=CancellationService(console_ledger, refunds, catalog, live, store, ledger,
                                          clock),
        images=ImageService(image_store, catalog), image_store=image_store,
        waitlist=waitlist,
    )
