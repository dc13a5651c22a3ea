"""Settings: every environment variable the app reads, parsed once into a frozen dataclass.

The README's configuration table lists the same names; keep the two in step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _hops(value: str) -> int | None:
    if not value.strip():
        return None
    hops = int(value)
    if hops < 0:
        raise ValueError(f"FORWARDED_HOPS {value!r}: use 0 or a positive number")
    return hops


@dataclass(frozen=True)
class Rate:
    """``limit`` requests per ``window_ms``; written ``"limit/seconds"`` in settings."""

    limit: int
    window_ms: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        limit, _, seconds = text.partition("/")
        rate = cls(int(limit), int(float(seconds) * 1000))
        if rate.limit < 1 or rate.window_ms < 1:
            raise ValueError(f"rate {text!r}: use limit/seconds, both positive")
        return rate


@dataclass(frozen=True)
class Settings:
    # Where local state lives (redis AOF, SQLite files, simulated gateway).
    data_dir: Path = Path(".local")
    # Redis: empty means "the local host starts its own redis-server".
    redis_url: str = ""
    redis_cluster: bool = False
    redis_max_connections: int = 64
    redis_entra_id: bool = False  # authenticate with Entra ID tokens (Azure Managed Redis)
    # Ledger: a SQLAlchemy URL (SQLite by default), or Azure SQL with Entra ID tokens.
    sql_url: str = ""
    sql_server: str = ""  # e.g. myserver.database.windows.net (managed identity, no password)
    sql_database: str = "leap"
    # Catalog documents: "sqlite" (embedded) or "cosmos".
    catalog_backend: str = "sqlite"
    cosmos_endpoint: str = ""
    cosmos_database: str = "leap"
    cosmos_key: str = ""  # empty: managed identity (DefaultAzureCredential)
    cosmos_verify_tls: bool = True
    # Payments queue: "redis" (Redis Stream) or "servicebus".
    bus_backend: str = "redis"
    servicebus_connection: str = ""
    servicebus_namespace: str = ""
    payments_queue: str = "payments"
    # Same number as the Service Bus queue's maxDeliveryCount.
    max_delivery_count: int = 10
    # Local stream: how long an unacknowledged message waits before redelivery (the lock).
    redelivery_ms: int = 5_000
    consumer_concurrency: int = 16
    # Purchase rules.
    hold_seconds: int = 600
    payment_window_seconds: int = 900
    default_per_user_limit: int = 8
    expired_sweep_per_hold: int = 3
    hold_record_retention_seconds: int = 86_400
    reconcile_interval_seconds: float = 5.0
    # Protection: request rates ("limit/seconds"), lockout, body size, CORS.
    rate_auth_per_ip: Rate = Rate(20, 60_000)
    rate_holds_per_user: Rate = Rate(30, 60_000)
    rate_holds_per_user_event: Rate = Rate(10, 10_000)
    rate_checkout_per_user: Rate = Rate(10, 60_000)
    login_lockout: Rate = Rate(5, 900_000)
    max_body_bytes: int = 65_536
    cors_origins: tuple[str, ...] = ()
    trust_forwarded_for: bool = False
    # Accounts.
    session_seconds: int = 86_400
    session_cache_seconds: float = 10.0
    password_min_length: int = 10
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65_536
    argon2_parallelism: int = 2
    admin_email: str = "admin@example.com"
    admin_password: str = "admin-password"
    # Local host.
    host: str = "127.0.0.1"
    port: int = 7071
    static_dir: Path = Path("static")
    seed_demo: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)
    # --- issue 17: client addresses behind proxies ---
    # Proxies in front of the app that append to X-Forwarded-For (Front Door -> Functions: 1).
    # None: TRUST_FORWARDED_FOR decides (true = 1 hop); 0: the header is ignored.
    forwarded_hops: int | None = None
    # --- issue 15: event images in Azure Blob Storage ---
    # Azure: the account's blob endpoint, with the app's managed identity. Locally: a
    # connection string (the local host sets one for its Azurite). Neither: uploads answer 503.
    image_account_url: str = ""
    image_connection: str = ""
    image_container: str = "event-images"
    image_max_bytes: int = 5 * 1024 * 1024

    @property
    def effective_sql_url(self) -> str:
        return self.sql_url or f"sqlite:///{self.data_dir / 'ledger.sqlite'}"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite"

    @property
    def gateway_path(self) -> Path:
        return self.data_dir / "gateway.sqlite"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        d = cls()

        def s(name: str, default: str) -> str:
            return e.get(name, default) or default

        return cls(
            data_dir=Path(s("LEAP_DATA_DIR", str(d.data_dir))),
            redis_url=e.get("REDIS_URL", ""),
            redis_cluster=_bool(e.get("REDIS_CLUSTER", "false")),
            redis_entra_id=_bool(e.get("REDIS_ENTRA_ID", "false")),
            redis_max_connections=int(
                s("REDIS_MAX_CONNECTIONS", str(d.redis_max_connections))),
            sql_url=e.get("SQL_URL", ""),
            sql_server=e.get("SQL_SERVER", ""),
            sql_database=s("SQL_DATABASE", d.sql_database),
            catalog_backend=s("CATALOG_BACKEND", d.catalog_backend),
            cosmos_endpoint=e.get("COSMOS_ENDPOINT", ""),
            cosmos_database=s("COSMOS_DATABASE", d.cosmos_database),
            cosmos_key=e.get("COSMOS_KEY", ""),
            cosmos_verify_tls=_bool(e.get("COSMOS_VERIFY_TLS", "true")),
            bus_backend=s("BUS_BACKEND", d.bus_backend),
            servicebus_connection=e.get("SERVICEBUS_CONNECTION", ""),
            servicebus_namespace=e.get("SERVICEBUS_CONNECTION__fullyQualifiedNamespace", ""),
            payments_queue=s("PAYMENTS_QUEUE", d.payments_queue),
            max_delivery_count=int(s("MAX_DELIVERY_COUNT", str(d.max_delivery_count))),
            redelivery_ms=int(s("REDELIVERY_MS", str(d.redelivery_ms))),
            consumer_concurrency=int(s("CONSUMER_CONCURRENCY", str(d.consumer_concurrency))),
            hold_seconds=int(s("HOLD_SECONDS", str(d.hold_seconds))),
            payment_window_seconds=int(
                s("PAYMENT_WINDOW_SECONDS", str(d.payment_window_seconds))
            ),
            default_per_user_limit=int(
                s("DEFAULT_PER_USER_LIMIT", str(d.default_per_user_limit))
            ),
            expired_sweep_per_hold=int(
                s("EXPIRED_SWEEP_PER_HOLD", str(d.expired_sweep_per_hold))),
            hold_record_retention_seconds=int(
                s("HOLD_RECORD_RETENTION_SECONDS", str(d.hold_record_retention_seconds))),
            reconcile_interval_seconds=float(
                s("RECONCILE_INTERVAL_SECONDS", str(d.reconcile_interval_seconds))
            ),
            rate_auth_per_ip=Rate.parse(s("RATE_AUTH_PER_IP", "20/60")),
            rate_holds_per_user=Rate.parse(s("RATE_HOLDS_PER_USER", "30/60")),
            rate_holds_per_user_event=Rate.parse(s("RATE_HOLDS_PER_USER_EVENT", "10/10")),
            rate_checkout_per_user=Rate.parse(s("RATE_CHECKOUT_PER_USER", "10/60")),
            login_lockout=Rate.parse(s("LOGIN_LOCKOUT", "5/900")),
            max_body_bytes=int(s("MAX_BODY_BYTES", str(d.max_body_bytes))),
            cors_origins=tuple(o.strip() for o in e.get("CORS_ORIGINS", "").split(",")
                               if o.strip()),
            trust_forwarded_for=_bool(e.get("TRUST_FORWARDED_FOR", "false")),
            session_seconds=int(s("SESSION_SECONDS", str(d.session_seconds))),
            session_cache_seconds=float(
                s("SESSION_CACHE_SECONDS", str(d.session_cache_seconds))),
            password_min_length=int(s("PASSWORD_MIN_LENGTH", str(d.password_min_length))),
            argon2_time_cost=int(s("ARGON2_TIME_COST", str(d.argon2_time_cost))),
            argon2_memory_kib=int(s("ARGON2_MEMORY_KIB", str(d.argon2_memory_kib))),
            argon2_parallelism=int(s("ARGON2_PARALLELISM", str(d.argon2_parallelism))),
            admin_email=s("ADMIN_EMAIL", d.admin_email),
            admin_password=s("ADMIN_PASSWORD", d.admin_password),
            host=s("HOST", d.host),
            port=int(s("PORT", str(d.port))),
            static_dir=Path(s("STATIC_DIR", str(d.static_dir))),
            seed_demo=_bool(s("SEED_DEMO", "true")),
            forwarded_hops=_hops(e.get("FORWARDED_HOPS", "")),
            image_account_url=e.get("IMAGE_ACCOUNT_URL", ""),
            image_connection=e.get("IMAGE_CONNECTION", ""),
            image_container=s("IMAGE_CONTAINER", d.image_container),
            image_max_bytes=int(s("IMAGE_MAX_BYTES", str(d.image_max_bytes))),
        )
