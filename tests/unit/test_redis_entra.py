"""Redis with Entra ID: with REDIS_ENTRA_ID the client authenticates with tokens of the app's
identity (a credential provider that renews them), and no password is configured anywhere.
Acquiring a real token needs Azure; what is checked here is the wiring."""

from __future__ import annotations

from redis.asyncio import Redis
from redis_entraid.cred_provider import EntraIdCredentialsProvider

from shared.runtime import REDIS_SCOPE, connect_redis
from shared.settings import Settings


async def test_entra_id_clients_carry_a_token_provider_and_no_password() -> None:
    settings = Settings.from_env({"REDIS_ENTRA_ID": "true",
                                  "REDIS_URL": "rediss://leap.westeurope.redis.azure.net:10000/0"})
    client = connect_redis(settings)
    assert isinstance(client, Redis)
    kwargs = client.connection_pool.connection_kwargs
    provider = kwargs["credential_provider"]
    assert isinstance(provider, EntraIdCredentialsProvider)
    assert kwargs.get("password") is None
    assert REDIS_SCOPE == "https://redis.azure.com/.default"
    await client.aclose()


async def test_without_the_setting_no_provider_is_used() -> None:
    client = connect_redis(Settings().with_(redis_url="redis://127.0.0.1:6379/0"))
    assert "credential_provider" not in client.connection_pool.connection_kwargs  # type: ignore[union-attr]
    await client.aclose()
