"""The settings model: every variable read under its name (aliases included), defaults as
before, ranges, rate syntax, URLs, refused combinations, and one message line per bad
variable naming it, the value given and what is allowed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shared.settings import Rate, Settings, SettingsError, env_name

ROOT = Path(__file__).resolve().parents[2]


def _refused(env: dict[str, str]) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    return caught.value


def test_no_variables_means_the_defaults_of_before() -> None:
    s = Settings.from_env({})
    assert s == Settings()
    assert (s.data_dir, s.redis_url, s.catalog_backend, s.bus_backend) == (
        Path(".local"), "", "sqlite", "redis")
    assert (s.hold_seconds, s.payment_window_seconds, s.default_per_user_limit) == (600, 900, 8)
    assert (s.host, s.port, s.static_dir, s.seed_demo) == ("127.0.0.1", 7071, Path("static"),
                                                           True)
    assert s.rate_holds_per_user == Rate(30, 60_000)
    assert s.login_lockout == Rate(5, 900_000)
    assert s.cors_origins == ()
    assert s.effective_sql_url == "sqlite:///.local/ledger.sqlite"
    assert s.catalog_path == Path(".local/catalog.sqlite")
    assert s.gateway_path == Path(".local/gateway.sqlite")


# Each variable with a valid value other than its default, and the field value it gives.
EVERY_VARIABLE: dict[str, tuple[str, Any]] = {
    "LEAP_DATA_DIR": ("/var/leap", Path("/var/leap")),
    "REDIS_URL": ("rediss://:pw@leap.redis.azure.net:10000/0",
                  "rediss://:pw@leap.redis.azure.net:10000/0"),
    "REDIS_CLUSTER": ("true", True),
    "REDIS_MAX_CONNECTIONS": ("128", 128),
    "REDIS_ENTRA_ID": ("yes", True),
    "SQL_URL": ("mssql+pyodbc://srv/db", "mssql+pyodbc://srv/db"),
    "SQL_SERVER": ("leap.database.windows.net", "leap.database.windows.net"),
    "SQL_DATABASE": ("ledger", "ledger"),
    "CATALOG_BACKEND": ("cosmos", "cosmos"),
    "COSMOS_ENDPOINT": ("https://leap.documents.azure.com:443/",
                        "https://leap.documents.azure.com:443/"),
    "COSMOS_DATABASE": ("catalog", "catalog"),
    "COSMOS_KEY": ("a2V5", "a2V5"),
    "COSMOS_VERIFY_TLS": ("false", False),
    "BUS_BACKEND": ("servicebus", "servicebus"),
    "SERVICEBUS_CONNECTION": ("Endpoint=sb://leap.servicebus.windows.net/;"
                              "SharedAccessKeyName=k;SharedAccessKey=v",
                              "Endpoint=sb://leap.servicebus.windows.net/;"
                              "SharedAccessKeyName=k;SharedAccessKey=v"),
    "SERVICEBUS_CONNECTION__fullyQualifiedNamespace": ("leap.servicebus.windows.net",
                                                       "leap.servicebus.windows.net"),
    "PAYMENTS_QUEUE": ("pay", "pay"),
    "MAX_DELIVERY_COUNT": ("5", 5),
    "REDELIVERY_MS": ("250", 250),
    "CONSUMER_CONCURRENCY": ("4", 4),
    "HOLD_SECONDS": ("300", 300),
    "PAYMENT_WINDOW_SECONDS": ("60", 60),
    "DEFAULT_PER_USER_LIMIT": ("2", 2),
    "EXPIRED_SWEEP_PER_HOLD": ("0", 0),
    "HOLD_RECORD_RETENTION_SECONDS": ("3600", 3600),
    "RECONCILE_INTERVAL_SECONDS": ("0.5", 0.5),
    "RECONCILE_SCHEDULE": ("0 */5 * * * *", "0 */5 * * * *"),
    "RATE_AUTH_PER_IP": ("7/30", Rate(7, 30_000)),
    "RATE_HOLDS_PER_USER": ("5/0.5", Rate(5, 500)),
    "RATE_HOLDS_PER_USER_EVENT": (" 3 / 10 ", Rate(3, 10_000)),
    "RATE_CHECKOUT_PER_USER": ("1/1", Rate(1, 1_000)),
    "LOGIN_LOCKOUT": ("3/600", Rate(3, 600_000)),
    "MAX_BODY_BYTES": ("1024", 1024),
    "CORS_ORIGINS": ("https://shop.example.com, http://localhost:5173,,",
                     ("https://shop.example.com", "http://localhost:5173")),
    "TRUST_FORWARDED_FOR": ("1", True),
    "FORWARDED_HOPS": ("2", 2),
    "BREAKER_FAILURES": ("5", 5),
    "WORKERS": ("3", 3),
    "IMAGE_CONTAINER": ("pics", "pics"),
    "IMAGE_MAX_BYTES": ("1000", 1000),
    "IMAGE_ACCOUNT_URL": ("https://acct.blob.core.windows.net/", "https://acct.blob.core.windows.net/"),
    "IMAGE_CONNECTION": ("UseDevelopmentStorage=true", "UseDevelopmentStorage=true"),
    "OUTBOX_RELAY_SCHEDULE": ("*/5 * * * * *", "*/5 * * * * *"),
    "QUEUE_TOKEN_SECRET": ("k" * 32, "k" * 32),
    "QUEUE_ADMISSION_SECONDS": ("300", 300),
    "QUEUE_DEFAULT_ADMIT_PER_MINUTE": ("600", 600),
    "BREAKER_OPEN_SECONDS": ("0.5", 0.5),
    "BREAKER_MAX_OPEN_SECONDS": ("30", 30.0),
    "SESSION_SECONDS": ("3600", 3600),
    "SESSION_CACHE_SECONDS": ("0", 0.0),
    "PASSWORD_MIN_LENGTH": ("12", 12),
    "ARGON2_TIME_COST": ("1", 1),
    "ARGON2_MEMORY_KIB": ("1024", 1024),
    "ARGON2_PARALLELISM": ("1", 1),
    "ADMIN_EMAIL": ("ops@leap.example", "ops@leap.example"),
    "ADMIN_PASSWORD": ("a long passphrase", "a long passphrase"),
    "APPLICATIONINSIGHTS_CONNECTION_STRING": ("InstrumentationKey=00000000-0000-0000-0000-"
                                              "000000000000;IngestionEndpoint=https://x/",
                                              "InstrumentationKey=00000000-0000-0000-0000-"
                                              "000000000000;IngestionEndpoint=https://x/"),
    "OTEL_SERVICE_NAME": ("leap-api", "leap-api"),
    "TICKET_SIGNING_KEY": ("a2V5a2V5", "a2V5a2V5"),
    "MAIL_BACKEND": ("acs", "acs"),
    "SMTP_HOST": ("smtp.example.com", "smtp.example.com"),
    "SMTP_PORT": ("587", 587),
    "ACS_ENDPOINT": ("https://leap.communication.azure.com",
                     "https://leap.communication.azure.com"),
    "MAIL_FROM": ("DoNotReply@leap.example", "DoNotReply@leap.example"),
    "PUBLIC_URL": ("https://shop.example.com", "https://shop.example.com"),
    "MAIL_INTERVAL_SECONDS": ("1.5", 1.5),
    "MAIL_SCHEDULE": ("*/30 * * * * *", "*/30 * * * * *"),
    "HOST": ("0.0.0.0", "0.0.0.0"),
    "PORT": ("8000", 8000),
    "STATIC_DIR": ("web", Path("web")),
    "SEED_DEMO": ("off", False),
    "WAITLIST_OFFER_SECONDS": ("120", 120),
}


def test_every_variable_is_read_under_its_name() -> None:
    assert set(EVERY_VARIABLE) == {env_name(n) for n in Settings.model_fields}
    s = Settings.from_env({name: text for name, (text, _) in EVERY_VARIABLE.items()})
    got = {env_name(n): getattr(s, n) for n in Settings.model_fields}
    assert got == {name: value for name, (_, value) in EVERY_VARIABLE.items()}


def test_an_empty_variable_means_the_default_and_names_are_case_sensitive() -> None:
    assert Settings.from_env({"HOLD_SECONDS": "", "COSMOS_VERIFY_TLS": "", "PORT": ""}) == \
        Settings()
    assert Settings.from_env({"hold_seconds": "5", "leap_data_dir": "x"}) == Settings()
    # Field names are not variable names where an alias is fixed (Azure's, ours).
    assert Settings.from_env({"DATA_DIR": "x", "SERVICEBUS_NAMESPACE": "y.example"}) == \
        Settings()


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("HOLD_SECONDS", "ten", "expected a whole number >= 1"),
    ("HOLD_SECONDS", "-5", "expected a whole number >= 1"),
    ("HOLD_SECONDS", "0", "expected a whole number >= 1"),
    ("SESSION_SECONDS", "1.5", "expected a whole number >= 1"),
    ("EXPIRED_SWEEP_PER_HOLD", "-1", "expected a whole number >= 0"),
    ("RECONCILE_INTERVAL_SECONDS", "0", "expected a number > 0"),
    ("SESSION_CACHE_SECONDS", "-1", "expected a number >= 0"),
    ("PORT", "70000", "expected a whole number from 1 to 65535"),
    ("RATE_HOLDS_PER_USER", "abc", "not of the form limit/seconds"),
    ("RATE_HOLDS_PER_USER", "30", "not of the form limit/seconds"),
    ("RATE_AUTH_PER_IP", "0/60", "both parts must be positive"),
    ("LOGIN_LOCKOUT", "5/0", "both parts must be positive"),
    ("RATE_CHECKOUT_PER_USER", "5/-1", "not of the form limit/seconds"),
    ("REDIS_CLUSTER", "maybe", "expected true or false"),
    ("CATALOG_BACKEND", "mongo", "expected one of sqlite, cosmos"),
    ("BUS_BACKEND", "kafka", "expected one of redis, servicebus"),
    ("REDIS_URL", "localhost:6379", "expected a redis://, rediss:// or unix:// URL"),
    ("REDIS_URL", "http://h:6379/0", "scheme 'http' is not one of redis, rediss, unix"),
    ("COSMOS_ENDPOINT", "leap.documents.azure.com", "not a URL"),
    ("SQL_URL", "ledger.sqlite", "not a SQLAlchemy URL"),
    ("SQL_URL", "oracle9://h/db", "no installed dialect or driver 'oracle9'"),
    ("SQL_SERVER", "https://leap.database.windows.net", "not a host name"),
    ("SERVICEBUS_CONNECTION__fullyQualifiedNamespace", "sb://x", "not a host name"),
    ("CORS_ORIGINS", "https://shop.example.com/app", "an origin has no path"),
    ("CORS_ORIGINS", "shop.example.com", "not a URL"),
    ("RECONCILE_SCHEDULE", "*/15 * * * *", "5 fields, not six"),
    ("ADMIN_EMAIL", "admin", "not an email address"),
])
def test_a_bad_value_is_named_with_the_value_and_what_is_allowed(
        name: str, value: str, expected: str) -> None:
    error = _refused({name: value})
    assert error.problems == [(name, value, error.problems[0][2])]
    assert expected in error.problems[0][2]
    assert str(error).splitlines()[1] == f"  {name}={value!r}: {error.problems[0][2]}"


def test_each_bad_variable_gets_one_line() -> None:
    error = _refused({"HOLD_SECONDS": "ten", "RATE_HOLDS_PER_USER": "abc", "PORT": "x",
                      "SEED_DEMO": "perhaps", "PAYMENTS_QUEUE": "ok"})
    lines = str(error).splitlines()
    assert lines[0].startswith("4 invalid settings; nothing was started")
    assert sorted(line.split("=")[0].strip() for line in lines[1:]) == [
        "HOLD_SECONDS", "PORT", "RATE_HOLDS_PER_USER", "SEED_DEMO"]


def test_secrets_are_not_echoed() -> None:
    error = _refused({"SERVICEBUS_CONNECTION": "Endpoint=https://x;SharedAccessKey=s3cret",
                      "REDIS_URL": "http://:s3cret@h:6379/0"})
    assert "s3cret" not in str(error)
    assert "SERVICEBUS_CONNECTION='<hidden, 41 characters>': no Endpoint=sb://" in str(error)
    assert "REDIS_URL='http://:***@h:6379/0'" in str(error)
    assert "s3cret" not in repr(Settings().with_(admin_password="s3cret"))
    error = _refused({"APPLICATIONINSIGHTS_CONNECTION_STRING": "https://x/s3cret"})
    assert error.problems[0][:2] == ("APPLICATIONINSIGHTS_CONNECTION_STRING",
                                     "<hidden, 16 characters>")
    assert "no InstrumentationKey in it" in error.problems[0][2]


@pytest.mark.parametrize(("env", "line"), [
    ({"CATALOG_BACKEND": "cosmos"},
     "  COSMOS_ENDPOINT is not set: required when CATALOG_BACKEND=cosmos"),
    ({"BUS_BACKEND": "servicebus"},
     "  SERVICEBUS_CONNECTION is not set: required when BUS_BACKEND=servicebus (or set "
     "SERVICEBUS_CONNECTION__fullyQualifiedNamespace)"),
    ({"REDIS_CLUSTER": "true"}, "  REDIS_URL is not set: required when REDIS_CLUSTER=true"),
    ({"REDIS_ENTRA_ID": "true"}, "  REDIS_URL is not set: required when REDIS_ENTRA_ID=true"),
    ({"ARGON2_PARALLELISM": "4", "ARGON2_MEMORY_KIB": "16"},
     "  ARGON2_MEMORY_KIB='16': at least 8 x ARGON2_PARALLELISM = 32"),
])
def test_combinations_that_cannot_work_are_refused(env: dict[str, str], line: str) -> None:
    assert str(_refused(env)).splitlines()[1].startswith(line)


def test_combinations_that_work() -> None:
    assert Settings.from_env({"BUS_BACKEND": "servicebus",
                              "SERVICEBUS_CONNECTION__fullyQualifiedNamespace":
                                  "leap.servicebus.windows.net"}).bus_backend == "servicebus"
    cosmos = {"CATALOG_BACKEND": "cosmos", "COSMOS_ENDPOINT": "https://127.0.0.1:8081"}
    assert Settings.from_env(cosmos).cosmos_endpoint == "https://127.0.0.1:8081"
    assert Settings.from_env({"REDIS_CLUSTER": "1", "REDIS_URL": "redis://h:1"}).redis_cluster


def test_all_combination_problems_are_listed_together() -> None:
    error = _refused({"CATALOG_BACKEND": "cosmos", "BUS_BACKEND": "servicebus"})
    assert [p[0] for p in error.problems] == ["COSMOS_ENDPOINT", "SERVICEBUS_CONNECTION"]


def test_bad_values_and_bad_combinations_are_listed_in_one_run() -> None:
    error = _refused({"HOLD_SECONDS": "ten", "CATALOG_BACKEND": "cosmos",
                      "BUS_BACKEND": "servicebus", "SERVICEBUS_CONNECTION": "nonsense"})
    assert [p[0] for p in error.problems] == [
        "SERVICEBUS_CONNECTION", "HOLD_SECONDS", "COSMOS_ENDPOINT"]


def test_the_function_apps_local_settings_are_valid() -> None:
    values = json.loads((ROOT / "local.settings.json").read_text())["Values"]
    s = Settings.from_env(values)
    assert (s.bus_backend, s.reconcile_schedule) == ("servicebus", "*/15 * * * * *")


def test_rates_parse_and_print_as_written() -> None:
    assert Rate.parse("30/60") == Rate(30, 60_000)
    assert str(Rate(5, 500)) == "5/0.5"
    assert str(Rate.parse("10/10")) == "10/10"
    with pytest.raises(ValueError, match="both parts must be positive"):
        Rate(0, 1_000)


def test_with_is_a_validated_copy() -> None:
    base = Settings()
    changed = base.with_(hold_seconds=30, rate_auth_per_ip="3/60",
                         cors_origins=("https://a.example",))
    assert (changed.hold_seconds, changed.rate_auth_per_ip, changed.cors_origins) == (
        30, Rate(3, 60_000), ("https://a.example",))
    assert base.hold_seconds == 600 and changed.port == base.port
    assert _with_error(base, hold_seconds=-1) == [("HOLD_SECONDS", "-1",
                                                   "expected a whole number >= 1")]
    assert _with_error(base, hold_secs=5) == [("hold_secs", "5", "not a setting")]
    assert _with_error(base, catalog_backend="cosmos")[0][0] == "COSMOS_ENDPOINT"


def _with_error(base: Settings, **changes: Any) -> list[tuple[str, str | None, str]]:
    with pytest.raises(SettingsError) as caught:
        base.with_(**changes)
    return caught.value.problems


def test_settings_are_frozen() -> None:
    with pytest.raises(ValidationError):
        Settings().hold_seconds = 5  # type: ignore[misc]


# What the Bicep expressions in infra/resources.bicep resolve to, with example names.
BICEP_EXAMPLES = {
    "insights.properties.ConnectionString":
        "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint="
        "https://westeurope-5.in.applicationinsights.azure.com/;ApplicationId=x",
    "'${bus.name}.servicebus.windows.net'": "leap-bus.servicebus.windows.net",
    "busHost": "leap-bus.servicebus.windows.net",
    "storage.properties.primaryEndpoints.blob": "https://stleap.blob.core.windows.net/",
    "eventImages.name": "event-images",
    # The platform resolves a Key Vault reference before the app reads it.
    "'@Microsoft.KeyVault(SecretUri=${queueTokenKey.properties.secretUri})'":
        "3f1c2e9a-6b7d-4e21-9c0a-5d8e7f6a1b2c",
    "sqlHost": "leap-sql.database.windows.net",
    "payments.name": "payments",
    "'rediss://${redis.properties.hostName}:10000/0'":
        "rediss://leap-redis.westeurope.redis.azure.net:10000/0",
    "cosmos.properties.documentEndpoint": "https://leap-cosmos.documents.azure.com:443/",
    "sql.properties.fullyQualifiedDomainName": "leap-sql.database.windows.net",
    "ledger.name": "leap",
    "'https://${web.properties.defaultHostname}'": "https://leap-web.azurestaticapps.net",
    # The host resolves a Key Vault reference before the app reads the variable.
    "'@Microsoft.KeyVault(SecretUri=${ticketKey.properties.secretUri})'":
        "c2VjcmV0LWJ5dGVzLW9mLWEtdGlja2V0LXNpZ25pbmcta2V5",
    "'https://${communication.properties.hostName}'":
        "https://acs-leap.europe.communication.azure.com",
    "'DoNotReply@${emailDomain.properties.mailFromSenderDomain}'":
        "DoNotReply@0000-1111.azurecomm.net",
}


def test_the_function_apps_azure_app_settings_are_valid() -> None:
    import re

    bicep = (ROOT / "infra" / "resources.bicep").read_text()
    pairs = re.findall(r"\{ name: '([A-Za-z0-9_]+)', value: (.+?) \}", bicep)
    ours = {env_name(n) for n in Settings.model_fields}
    env = {}
    for name, value in pairs:
        if name in ours:
            literal = re.fullmatch(r"'([^'$]*)'", value)
            env[name] = literal[1] if literal else BICEP_EXAMPLES[value]
    assert {"BUS_BACKEND", "CATALOG_BACKEND", "REDIS_URL", "SQL_SERVER"} <= set(env)
    s = Settings.from_env(env)
    assert (s.bus_backend, s.catalog_backend, s.redis_cluster) == ("servicebus", "cosmos", True)
