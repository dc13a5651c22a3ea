"""The Lua scripts keep their documented contracts: a header naming KEYS, ARGV and the
return value; keys only from KEYS; and one hash tag for all keys of an event."""

from __future__ import annotations

import re

import pytest

from shared.adapters import lua_scripts
from shared.adapters.redis_keys import event_keys

SCRIPTS = sorted(p.stem for p in lua_scripts.LUA_DIR.glob("*.lua"))


@pytest.mark.parametrize("name", SCRIPTS)
def test_header_documents_keys_argv_and_returns(name: str) -> None:
    text = (lua_scripts.LUA_DIR / f"{name}.lua").read_text()
    header = text.split("]]", 1)[0]
    assert header.startswith("--[[")
    for word in ("KEYS", "ARGV", "Returns"):
        assert word in header, f"{name}.lua header lacks {word}"


@pytest.mark.parametrize("name", SCRIPTS)
def test_redis_calls_use_only_declared_keys(name: str) -> None:
    body = lua_scripts.source(name)
    for call in re.findall(r"redis\.call\('(\w+)',\s*([^,)]+)", body):
        command, first = call
        if command in ("XACK", "XADD", "SET", "HSET", "HGET", "HDEL", "HINCRBY", "HMGET",
                       "HGETALL", "ZADD", "ZREM", "ZRANGEBYSCORE", "EXISTS", "DEL"):
            assert first.strip().startswith("KEYS["), f"{name}: {command} on {first}"


def test_includes_are_expanded() -> None:
    assert "@include" not in lua_scripts.source("hold")
    assert "local function end_hold" in lua_scripts.source("hold")


def test_all_keys_of_an_event_share_one_hash_tag() -> None:
    keys = event_keys("3f1c0c2e-1111-4222-8333-444455556666")
    tags = {re.search(r"\{(.+?)\}", k).group(1) for k in keys}  # type: ignore[union-attr]
    assert tags == {"3f1c0c2e-1111-4222-8333-444455556666"}
    assert len(set(keys)) == 7
