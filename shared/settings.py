"""Settings: every environment variable the app reads, as one typed, validated, frozen
pydantic-settings model.

Each field is one variable: its type and range, its default and a one-line description. The
variable's name is the field name in capitals unless the field names another
(``validation_alias``). Adding a setting is one line::

    hold_seconds: int = Field(600, ge=1, description="how long a hold lasts")

``Settings()`` is the defaults (what tests start from); ``Settings.from_env()`` reads the
environment (or a given mapping) and raises ``SettingsError`` naming every bad variable, its
value and what is allowed; ``settings.with_(field=value)`` is a validated copy. The README's
configuration table is this model printed by ``python -m shared.settings --markdown``. Value
types (``Rate``) and the validators of URLs, host names and the like are in
``shared.setting_types``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types
from pydantic import (
    AfterValidator,
    AliasGenerator,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from shared import setting_types as check
from shared.setting_types import Origins, Rate, RateSetting

__all__ = ["Rate", "Settings", "SettingsError", "env_name", "markdown_table", "readme_table"]


class SettingsError(ValueError):
    """Bad settings: ``problems`` holds (variable, value or None when unset, what is allowed),
    and the message is one line per bad variable."""

    def __init__(self, problems: Iterable[tuple[str, str | None, str]]) -> None:
        self.problems = list(problems)
        super().__init__(self.text())

    def text(self) -> str:
        count = len(self.problems)
        lines = [f"{count} invalid setting{'s' if count > 1 else ''}; nothing was started "
                 "(README.md, Configuration, lists them all):"]
        for name, value, rule in self.problems:
            given = " is not set" if value is None else f"={value!r}"
            lines.append(f"  {name}{given}: {rule}")
        return "\n".join(lines)


class _MappingEnv(EnvSettingsSource):
    """The environment source, reading a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._env, self.case_sensitive, self.env_ignore_empty,
                              self.env_parse_none_str)


# --- the settings --------------------------------------------------------------------------


class Settings(BaseSettings):
    """Every setting; the environment variable is the field name in capitals unless aliased."""

    model_config = SettingsConfigDict(
        frozen=True, case_sensitive=True, env_ignore_empty=True, enable_decoding=False,
        extra="forbid", validate_by_name=True, validate_by_alias=True,
        alias_generator=AliasGenerator(validation_alias=str.upper), validate_default=True)

    # Where local state lives (redis AOF, SQLite files, simulated gateway).
    data_dir: Path = Field(
        Path(".local"), validation_alias="LEAP_DATA_DIR",
        description="local state: redis AOF, SQLite ledger and catalog, simulated gateway")
    # Redis: empty means "the local host starts its own redis-server".
    redis_url: Annotated[str, AfterValidator(check.url("redis", "rediss", "unix"))] = Field(
        "", description="Redis to use, e.g. `rediss://host:10000/0`",
        json_schema_extra={"shown_default": "(local host starts its own)",
                           "allowed": "a redis://, rediss:// or unix:// URL"})
    redis_cluster: bool = Field(False, description="use the cluster client (Azure Managed Redis)")
    redis_max_connections: int = Field(
        256, ge=1, description="connection pool bound per process; bursts wait for a "
        "connection (an on-sale with 250 open order pages used ~100 per worker; at 64 its "
        "requests queued for connections)")
    redis_entra_id: bool = Field(
        False, description="authenticate to Redis with Entra ID tokens of the app's identity "
        "(Azure Managed Redis; `REDIS_URL` then carries no password)")
    # Degraded mode: consecutive Redis connection failures open the breaker; it stays open
    # this long before a background probe (ping + recovery merge); failed probes back off.
    breaker_failures: int = Field(
        3, ge=1, description="consecutive Redis connection failures that open the breaker "
        "(holds and checkouts then go to the SQL ledger)")
    breaker_open_seconds: float = Field(
        1.0, gt=0, description="how long the breaker stays open before probing Redis again")
    breaker_max_open_seconds: float = Field(
        15.0, gt=0, description="longest wait between probes while Redis stays down "
        "(failed probes double the wait up to this)")
    # The waiting room (docs/architecture.md §5b).
    queue_token_secret: str = Field(
        "", repr=False, description="HMAC key of the waiting room's admission tokens; every "
        "instance must share it (Azure: a Key Vault reference)",
        json_schema_extra={"shown_default": "(local host: a key kept in `$LEAP_DATA_DIR`)"})
    queue_admission_seconds: int = Field(
        600, ge=1, description="how long an admitted visitor may take holds")
    queue_default_admit_per_minute: int = Field(
        3_000, ge=1, description="admission rate of a queue turned on without one (the "
        "finalize throughput bench/flash_sale.py measured, about 51 orders/s)")
    # Ledger: a SQLAlchemy URL (SQLite by default), or Azure SQL with Entra ID tokens.
    sql_url: Annotated[str, AfterValidator(check.sqlalchemy_url)] = Field(
        "", description="ledger, a SQLAlchemy URL (wins over `SQL_SERVER`)",
        json_schema_extra={"shown_default": "`sqlite:///$LEAP_DATA_DIR/ledger.sqlite`",
                           "allowed": "a SQLAlchemy URL, e.g. sqlite:///path/ledger.sqlite"})
    sql_server: Annotated[str, AfterValidator(check.hostname)] = Field(
        "", description="Azure SQL server (`<name>.database.windows.net`): ODBC Driver 18, "
        "Entra ID token from the managed identity, no password",
        json_schema_extra={"allowed": "a host name, e.g. myserver.database.windows.net"})
    sql_database: str = Field("leap", min_length=1, description="Azure SQL database")
    # Catalog documents: embedded SQLite or Cosmos DB.
    catalog_backend: Literal["sqlite", "cosmos"] = Field(
        "sqlite", description="catalog document store: `sqlite` (embedded) or `cosmos`")
    cosmos_endpoint: Annotated[str, AfterValidator(check.url("https", "http"))] = Field(
        "", description="Cosmos DB account endpoint, e.g. "
        "`https://<account>.documents.azure.com:443/`",
        json_schema_extra={
            "allowed": "an https:// URL, e.g. https://<account>.documents.azure.com:443/"})
    cosmos_database: str = Field(
        "leap", min_length=1,
        description="Cosmos DB database (container `events` is created if missing)")
    cosmos_key: str = Field(
        "", repr=False, description="account key (emulators only); empty means managed identity")
    cosmos_verify_tls: bool = Field(
        True, description="`false` only for an emulator's self-signed certificate")
    # Payments queue: Redis Stream or Service Bus.
    bus_backend: Literal["redis", "servicebus"] = Field(
        "redis", description="payments queue: `redis` (stream) or `servicebus`")
    servicebus_connection: Annotated[str, AfterValidator(check.servicebus_connection)] = Field(
        "", repr=False, description="Service Bus connection string (publisher and triggers)",
        json_schema_extra={"allowed": "a connection string: Endpoint=sb://...;"
                           "SharedAccessKeyName=...;SharedAccessKey=..."})
    # Azure Functions' identity-based connection: <connection>__fullyQualifiedNamespace.
    servicebus_namespace: Annotated[str, AfterValidator(check.hostname)] = Field(
        "", validation_alias="SERVICEBUS_CONNECTION__fullyQualifiedNamespace",
        description="or the namespace, with managed identity",
        json_schema_extra={"allowed": "a host name, e.g. mynamespace.servicebus.windows.net"})
    payments_queue: str = Field("payments", min_length=1, description="queue (or stream) name")
    max_delivery_count: int = Field(
        10, ge=1, description="deliveries before dead-lettering (same as the queue's)")
    redelivery_ms: int = Field(
        5_000, ge=1,
        description="local stream: lock time before an unacknowledged message is redelivered")
    consumer_concurrency: int = Field(
        128, ge=1, description="local stream: messages per finalize batch (read with one "
        "XREADGROUP COUNT, written in one ledger transaction)")
    # The local host.
    workers: int = Field(
        0, ge=0, description="local host: API worker processes, each one payments consumer "
        "(with more than one, the email sender runs beside them in a niced process of its "
        "own); 0 = one per CPU core", json_schema_extra={"shown_default": "`0` (one per core)"})
    # Purchase rules.
    hold_seconds: int = Field(600, ge=1, description="how long a hold lasts")
    payment_window_seconds: int = Field(
        900, ge=1,
        description="how long a checkout may wait for its payment before it is failed")
    default_per_user_limit: int = Field(
        8, ge=1, description="tickets per buyer per event, unless the event says otherwise")
    expired_sweep_per_hold: int = Field(
        3, ge=0, description="expired holds a new hold releases first")
    hold_record_retention_seconds: int = Field(
        86_400, ge=1, description="how long ended hold records stay in Redis")
    reconcile_interval_seconds: float = Field(
        5.0, gt=0, description="local host: reconciler period")
    reconcile_schedule: Annotated[str, AfterValidator(check.ncrontab)] = Field(
        "", description="function app: timer NCRONTAB (read by the Functions host)",
        json_schema_extra={"shown_default": "`*/15 * * * * *` in local.settings.json",
                           "allowed": "six NCRONTAB fields, e.g. */15 * * * * *"})
    outbox_relay_schedule: Annotated[str, AfterValidator(check.ncrontab)] = Field(
        "", description="function app: checkout outbox relay timer NCRONTAB (read by the "
        "Functions host)",
        json_schema_extra={"shown_default": "`*/5 * * * * *` in local.settings.json",
                           "allowed": "six NCRONTAB fields, e.g. */5 * * * * *"})
    # Protection: request rates ("limit/seconds"), lockout, body size, CORS.
    rate_auth_per_ip: RateSetting = Field(
        Rate(20, 60_000), description="register and login attempts per client address per "
        "60 s (each action its own bucket)")
    rate_holds_per_user: RateSetting = Field(
        Rate(30, 60_000), description="hold requests per buyer per 60 s, all events")
    rate_holds_per_user_event: RateSetting = Field(
        Rate(10, 10_000), description="hold requests per buyer per event per 10 s "
        "(inside the hold script)")
    rate_checkout_per_user: RateSetting = Field(
        Rate(10, 60_000), description="checkout requests per buyer per 60 s")
    login_lockout: RateSetting = Field(
        Rate(5, 900_000), description="failed logins per account per 900 s before it is "
        "locked (one more try every 180 s)")
    max_body_bytes: int = Field(65_536, ge=1, description="largest request body (413 beyond)")
    cors_origins: Origins = Field(
        (), description="comma-separated SPA origins allowed to call the API cross-origin",
        json_schema_extra={"shown_default": "(none)",
                           "allowed": "comma-separated origins such as "
                                      "https://shop.example.com, or *"})
    forwarded_hops: int | None = Field(
        None, ge=0, description="proxies in front of the app that append to `X-Forwarded-For`; "
        "the client is that many entries from the right; `0` ignores the header (the Azure "
        "deployment sets `1`)",
        json_schema_extra={"shown_default": "(unset)", "allowed": "0 or a positive number"})
    trust_forwarded_for: bool = Field(
        False, description="older switch: `true` means `FORWARDED_HOPS=1` when `FORWARDED_HOPS` "
        "is unset")
    # Accounts.
    session_seconds: int = Field(86_400, ge=1, description="session lifetime")
    session_cache_seconds: float = Field(
        10.0, ge=0, description="how long an instance trusts a verified token without asking "
        "Redis (revocations still reach it at once)")
    password_min_length: int = Field(
        10, ge=1, description="shortest password accepted (also refused: common ones, fewer "
        "than 4 distinct characters, containing the email name)")
    argon2_time_cost: int = Field(3, ge=1, description="password hashing (Argon2id): passes")
    argon2_memory_kib: int = Field(
        65_536, ge=8, description="password hashing (Argon2id): memory in KiB")
    argon2_parallelism: int = Field(
        2, ge=1, description="password hashing (Argon2id): lanes")
    admin_email: Annotated[str, AfterValidator(check.email)] = Field(
        "admin@example.com", description="admin account created on an empty local ledger",
        json_schema_extra={"allowed": "an email address"})
    admin_password: str = Field(
        "admin-password", min_length=1, repr=False,
        description="that admin account's password")
    # Telemetry.
    applicationinsights_connection_string: Annotated[
        str, AfterValidator(check.key_values("InstrumentationKey"))] = Field(
        "", repr=False,
        description="export traces and metrics (OpenTelemetry) to Application Insights",
        json_schema_extra={"allowed": "an Application Insights connection string "
                           "(InstrumentationKey=...;IngestionEndpoint=...)"})
    otel_service_name: str = Field(
        "leap-ticketing", min_length=1, description="service name on exported telemetry")
    # Tickets.
    ticket_signing_key: str = Field(
        "", repr=False,
        description="HMAC key of ticket codes, base64 (32+ bytes); in Azure a Key Vault "
                    "reference",
        json_schema_extra={"shown_default": "(a key file kept in the data dir)",
                           "allowed": "base64, 32+ bytes"})
    # Email (order confirmations).
    mail_backend: Literal["smtp", "acs"] = Field(
        "smtp", description="`smtp` (locally the host's own sink) or `acs` (Azure "
                            "Communication Services Email, managed identity)")
    smtp_host: str = Field(
        "", description="SMTP server for MAIL_BACKEND=smtp",
        json_schema_extra={"shown_default": "(local host starts its own sink)"})
    smtp_port: int = Field(2525, ge=1, le=65_535, description="SMTP port (local sink's too)")
    acs_endpoint: Annotated[str, AfterValidator(check.url("https"))] = Field(
        "", description="Communication Services endpoint for MAIL_BACKEND=acs",
        json_schema_extra={"allowed": "an https:// URL"})
    mail_from: Annotated[str, AfterValidator(check.email)] = Field(
        "tickets@leap.example", description="sender address of emails",
        json_schema_extra={"allowed": "an email address"})
    public_url: Annotated[str, AfterValidator(check.url("https", "http"))] = Field(
        "", description="the shop's address, for links in emails",
        json_schema_extra={"shown_default": "(the local host's own address)",
                           "allowed": "an http(s):// URL"})
    mail_interval_seconds: float = Field(
        2.0, gt=0, description="local host: email sender period")
    mail_schedule: Annotated[str, AfterValidator(check.ncrontab)] = Field(
        "", description="function app: email sender timer NCRONTAB (read by the Functions host)",
        json_schema_extra={"shown_default": "`*/10 * * * * *` in local.settings.json",
                           "allowed": "six NCRONTAB fields, e.g. */10 * * * * *"})
    # Local host.
    host: str = Field("127.0.0.1", min_length=1, description="local host: address")
    port: int = Field(7071, ge=1, le=65_535, description="local host: port")
    static_dir: Path = Field(
        Path("static"), description="web front end (its `dist/` when built)")
    seed_demo: bool = Field(True, description="put demo events into an empty catalog")
    # Event images in Blob Storage (docs/architecture.md §8d).
    image_account_url: Annotated[str, AfterValidator(check.url("https", "http"))] = Field(
        "", description="Azure: the storage account's blob endpoint, reached with the app's "
        "managed identity; neither this nor `IMAGE_CONNECTION`: uploads answer 503")
    image_connection: str = Field(
        "", repr=False, description="a Blob Storage connection string (the local host sets one "
        "for its Azurite)", json_schema_extra={"shown_default": "(local host: its Azurite)"})
    image_container: str = Field("event-images", min_length=1,
                                 description="blob container of event images")
    image_max_bytes: int = Field(5 * 1024 * 1024, ge=1,
                                 description="largest image upload (413 beyond)")
    # --- issue 16: the waiting list ---
    waitlist_offer_seconds: int = Field(
        900, ge=1, description="how long tickets offered to the next buyer on a waiting list "
                               "stay held for them before the offer passes on")

    @model_validator(mode="after")
    def _combinations(self) -> Settings:
        """Settings that are each valid but cannot work together."""
        problems: list[tuple[str, str | None, str]] = []
        if self.catalog_backend == "cosmos" and not self.cosmos_endpoint:
            problems.append(("COSMOS_ENDPOINT", None, "required when CATALOG_BACKEND=cosmos"))
        if self.bus_backend == "servicebus" and not (
                self.servicebus_connection or self.servicebus_namespace):
            problems.append(("SERVICEBUS_CONNECTION", None,
                             "required when BUS_BACKEND=servicebus (or set "
                             "SERVICEBUS_CONNECTION__fullyQualifiedNamespace)"))
        if self.mail_backend == "acs" and not self.acs_endpoint:
            problems.append(("ACS_ENDPOINT", None, "required when MAIL_BACKEND=acs"))
        for flag in ("redis_cluster", "redis_entra_id"):
            if getattr(self, flag) and not self.redis_url:
                problems.append(("REDIS_URL", None, f"required when {flag.upper()}=true (the "
                                 "local host's own redis-server is a single node with no "
                                 "Entra ID)"))
                break
        if self.argon2_memory_kib < 8 * self.argon2_parallelism:
            problems.append(("ARGON2_MEMORY_KIB", str(self.argon2_memory_kib),
                             f"at least 8 x ARGON2_PARALLELISM = {8 * self.argon2_parallelism}"))
        if problems:
            raise SettingsError(problems)
        return self

    # --- derived values ---

    @property
    def effective_sql_url(self) -> str:
        return self.sql_url or f"sqlite:///{self.data_dir / 'ledger.sqlite'}"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite"

    @property
    def gateway_path(self) -> Path:
        return self.data_dir / "gateway.sqlite"

    # --- construction ---

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Settings() is the defaults; only from_env() reads the environment, so tests and
        # tools never pick up a stray variable by accident.
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from the environment (or ``env``); an empty variable means unset.

        Raises ``SettingsError`` listing every bad variable."""
        env = os.environ if env is None else env
        # Only the variables' own names: the source would also take a field's name.
        names = {env_name(n) for n in cls.model_fields}
        source = _MappingEnv(cls, {k: v for k, v in env.items() if k in names})
        return cls._validated(source())

    def with_(self, **changes: Any) -> Settings:
        """A copy with ``changes`` (field names, typed values or variable text), validated."""
        return self._validated({**{n: getattr(self, n) for n in type(self).model_fields},
                                **changes})

    @classmethod
    def _validated(cls, values: Mapping[str, Any]) -> Settings:
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = _problems(exc, values)
        # Combinations are checked once every field is valid; check them again with the bad
        # variables left out, so that one run names everything there is to fix.
        named = {p[0] for p in problems}
        rest = {k: v for k, v in values.items()
                if (f := _field_of(k)) is not None and env_name(f) not in named}
        try:
            cls(**rest)
        except ValidationError as again:
            problems += [p for p in _problems(again, rest) if p[0] not in named]
        raise SettingsError(problems)


# --- messages and the README table ---------------------------------------------------------


def env_name(name: str) -> str:
    """The environment variable of field ``name``."""
    alias = Settings.model_fields[name].validation_alias
    return alias if isinstance(alias, str) else name.upper()


def _allowed(info: FieldInfo) -> str:
    """What a field accepts, in words: its own text, else from its type and bounds."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("allowed"), str):
        return str(extra["allowed"])
    kind = info.annotation
    if get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    if kind is Rate:
        return Rate.ALLOWED
    if kind is bool:
        return "true or false"
    if get_origin(kind) is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(kind))
    words = {int: "a whole number", float: "a number", str: "text", Path: "a path"}
    text = words.get(kind, str(kind)) if isinstance(kind, type) else str(kind)
    bounds = {type(b): b for b in info.metadata}
    low, high = bounds.get(annotated_types.Ge), bounds.get(annotated_types.Le)
    if isinstance(low, annotated_types.Ge) and isinstance(high, annotated_types.Le):
        return f"{text} from {low.ge} to {high.le}"
    for bound in info.metadata:
        if isinstance(bound, annotated_types.Ge):
            text += f" >= {bound.ge}"
        elif isinstance(bound, annotated_types.Gt):
            text += f" > {bound.gt}"
        elif isinstance(bound, annotated_types.Le):
            text += f" <= {bound.le}"
        elif isinstance(bound, annotated_types.MinLen) and bound.min_length == 1:
            text = "non-empty " + text
    return text


def _field_of(key: object) -> str | None:
    if not isinstance(key, str):
        return None
    if key in Settings.model_fields:
        return key
    return next((n for n in Settings.model_fields if env_name(n) == key), None)


def _problems(exc: ValidationError, values: Mapping[str, Any]) -> list[tuple[str, str | None, str]]:
    problems: dict[str, tuple[str, str | None, str]] = {}
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, SettingsError):
            for name, value, rule in cause.problems:
                problems.setdefault(name, (name, value, rule))
            continue
        field = _field_of(error["loc"][0]) if error["loc"] else None
        if field is None:  # a name the model does not have (with_ only: env is filtered)
            key = str(error["loc"][0]) if error["loc"] else "?"
            given = values.get(key)
            problems.setdefault(key, (key, None if given is None else str(given),
                                      "not a setting"))
            continue
        name = env_name(field)
        given = _shown_value(Settings.model_fields[field], values.get(name, values.get(field)))
        rule = _allowed(Settings.model_fields[field])
        if error["type"] == "value_error":  # our validators say what exactly is wrong
            reason = str(error["msg"]).removeprefix("Value error, ")
            rule = f"{reason}; expected {rule}"
        else:
            rule = f"expected {rule}"
        problems.setdefault(name, (name, given, rule))
    return list(problems.values())


def _shown_value(info: FieldInfo, value: object) -> str | None:
    """A bad value as the message shows it: secrets (``repr=False`` fields) hidden, and a
    URL's password masked, since start-up errors end up in logs."""
    if value is None:
        return None
    if not info.repr:
        return f"<hidden, {len(str(value))} characters>"
    return re.sub(r"(://[^/:@]*:)[^/@]+@", r"\1***@", str(value))


def _shown_default(info: FieldInfo) -> str:
    extra = info.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("shown_default"), str):
        return str(extra["shown_default"])
    value = info.default
    if value in ("", ()):
        return "—"
    if isinstance(value, bool):
        value = str(value).lower()
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def markdown_table() -> str:
    """The README's configuration table: one row per variable, from the model."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        rows.append(f"| `{env_name(name)}` | {_shown_default(info)} | {info.description} |")
    return "\n".join(rows) + "\n"


README = Path(__file__).resolve().parents[1] / "README.md"
TABLE_BEGIN = "<!-- settings-table:begin (generated: python -m shared.settings --markdown) -->\n"
TABLE_END = "<!-- settings-table:end -->\n"


def readme_table(readme: str) -> str:
    """The generated block of the README's text (between the markers)."""
    start = readme.index(TABLE_BEGIN) + len(TABLE_BEGIN)
    return readme[start:readme.index(TABLE_END, start)]


def from_env_or_exit() -> Settings:
    """The environment's settings for a command-line entry point. Bad ones are the operator's
    mistake: one line per variable on stderr and exit status 2, no traceback."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.settings",
        description="check the environment's settings (exit 2 naming each bad variable), or "
                    "print or rewrite the README's configuration table")
    parser.add_argument("--markdown", action="store_true",
                        help="print the README's configuration table")
    parser.add_argument("--write-readme", action="store_true",
                        help="rewrite the table in README.md from the model")
    args = parser.parse_args(argv)
    if args.markdown:
        sys.stdout.write(markdown_table())
        return 0
    if args.write_readme:
        text = README.read_text()
        README.write_text(text.replace(readme_table(text), markdown_table(), 1))
        return 0
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"settings are valid ({len(type(settings).model_fields)} variables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
