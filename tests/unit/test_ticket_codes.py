"""Signed ticket codes: genuine codes verify offline; forged or altered ones never do; the
local key survives restarts."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest

from shared import ticket_codes
from shared.adapters.ticket_key import ticket_key
from shared.settings import Settings

KEY = b"k" * 32


def test_a_genuine_code_names_its_ticket_and_event() -> None:
    ticket_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
    code = ticket_codes.sign(KEY, ticket_id, event_id)
    assert len(code) <= ticket_codes.MAX_LENGTH
    assert ticket_codes.verify(KEY, code) == ticket_codes.SignedTicket(ticket_id, event_id)
    assert ticket_codes.verify(KEY, f"  {code}\n") is not None  # scanners add whitespace


def test_every_altered_character_is_refused() -> None:
    code = ticket_codes.sign(KEY, str(uuid.uuid4()), str(uuid.uuid4()))
    for i, ch in enumerate(code):
        if ch == ".":
            continue
        swapped = "B" if ch != "B" else "C"
        assert ticket_codes.verify(KEY, code[:i] + swapped + code[i + 1:]) is None, i


def test_codes_of_another_key_or_another_ticket_are_forged() -> None:
    ticket_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
    code = ticket_codes.sign(b"x" * 32, ticket_id, event_id)
    assert ticket_codes.verify(KEY, code) is None
    other = ticket_codes.sign(KEY, str(uuid.uuid4()), event_id)
    # A genuine MAC moved onto another ticket id does not verify.
    spliced = ".".join(code.split(".")[:3] + other.split(".")[3:])
    assert ticket_codes.verify(KEY, spliced) is None
    for junk in ("", "LT1", "LT1...", "LT2." + code[4:], code + "x", "random-code-1234"):
        assert ticket_codes.verify(KEY, junk) is None


def test_the_local_key_file_is_made_once_and_kept(tmp_path: Path) -> None:
    settings = Settings().with_(data_dir=tmp_path)
    first = ticket_key(settings)
    assert len(first) == 32 and ticket_key(settings) == first
    assert (tmp_path / "ticket-signing.key").stat().st_mode & 0o077 == 0


def test_a_configured_key_wins_and_a_short_one_is_refused(tmp_path: Path) -> None:
    key = base64.b64encode(b"s" * 32).decode()
    assert ticket_key(Settings().with_(data_dir=tmp_path, ticket_signing_key=key)) == b"s" * 32
    assert not (tmp_path / "ticket-signing.key").exists()
    with pytest.raises(ValueError, match="32 bytes"):
        ticket_key(Settings().with_(data_dir=tmp_path, ticket_signing_key="c2hvcnQ="))
    # An unresolved Key Vault reference is not a key, however long.
    with pytest.raises(ValueError, match="not base64"):
        ticket_key(Settings().with_(data_dir=tmp_path, ticket_signing_key=(
            "@Microsoft.KeyVault(SecretUri=https://kv-leap.vault.azure.net/secrets/ticket)")))
