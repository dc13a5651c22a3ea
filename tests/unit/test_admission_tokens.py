"""Admission tokens: bound to one user, one event and an expiry; a tampered, expired or
foreign token never verifies; a token verifies on another instance sharing the key."""

from __future__ import annotations

from shared.services.admission_tokens import AdmissionTokens
from shared.services.waiting_room import wait_seconds


def test_a_token_admits_its_user_for_its_event_until_it_expires() -> None:
    tokens = AdmissionTokens("k" * 32)
    token = tokens.issue("alice", "event-1", 10_000)
    assert tokens.valid(token, "alice", "event-1", 9_999)
    assert not tokens.valid(token, "alice", "event-1", 10_000)
    assert not tokens.valid(token, "bob", "event-1", 0)
    assert not tokens.valid(token, "alice", "event-2", 0)


def test_tampering_is_refused() -> None:
    tokens = AdmissionTokens("k" * 32)
    version, expires, signature = tokens.issue("alice", "e", 10_000).split(".")
    assert not tokens.valid(f"{version}.{int(expires) * 10}.{signature}", "alice", "e", 0)
    assert not tokens.valid(f"{version}.{expires}.{signature[:-2]}AA", "alice", "e", 0)
    assert not tokens.valid(f"q0.{expires}.{signature}", "alice", "e", 0)
    for junk in ("", ".", "q1..", "q1.-5.x", "q1.1e9.x", "q1." + "9" * 40 + ".x"):
        assert not tokens.valid(junk, "alice", "e", 0)


def test_instances_sharing_the_key_agree_and_others_do_not() -> None:
    one, two, stranger = AdmissionTokens("shared"), AdmissionTokens("shared"), AdmissionTokens("")
    token = one.issue("alice", "e", 10_000)
    assert two.valid(token, "alice", "e", 0)
    assert not stranger.valid(token, "alice", "e", 0)


def test_expected_wait_rounds_up_and_is_unknown_while_paused() -> None:
    assert wait_seconds(1, 60, False) == 1
    assert wait_seconds(501, 500, False) == 61
    assert wait_seconds(0, 500, False) == 0
    assert wait_seconds(10, 500, True) is None
