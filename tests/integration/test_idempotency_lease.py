"""The Idempotency-Key claim is a lease, against real Redis: it expires within its lease
once its owner stops renewing (a dead server), and a live request that outlasts many leases
keeps it, so a duplicate waits for its answer instead of running it twice."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.responses import JSONResponse
from starlette.requests import Request

from shared.api import idempotency
from shared.models import Principal
from shared.ports import StoredResponse
from shared.runtime import Runtime
from tests.support import wait_until

USER = Principal("u-lease", "lease@example.com", "Lease", "user", 0)


def _request(body: bytes) -> Request:
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/api/holds/h1/checkout",
             "raw_path": b"/api/holds/h1/checkout", "query_string": b"",
             "headers": [(b"idempotency-key", b"lease-key")], "server": ("test", 80),
             "scheme": "http", "root_path": ""}
    return Request(scope, receive)


async def test_a_claim_whose_owner_stopped_renewing_expires(rt: Runtime) -> None:
    store = rt.idempotency
    # A 2 s lease: the second call must still find it held, even on a stalled machine.
    assert await store.begin("idem:t:1", "fp", "dead-owner", 2000) is None
    pending = await store.begin("idem:t:1", "fp", "retry", 300)
    assert pending is not None and pending.status == 0

    async def taken_over() -> bool:
        return await store.begin("idem:t:1", "fp", "retry", 10_000) is None

    await wait_until(taken_over, "taken over")
    # The dead owner's late renewal does not extend the new owner's claim.
    assert not await store.renew("idem:t:1", "fp", "dead-owner", 60_000)
    assert await store.renew("idem:t:1", "fp", "retry", 10_000)


async def test_an_overtaken_owner_can_neither_store_its_answer_nor_free_the_claim(
        rt: Runtime) -> None:
    store = rt.idempotency
    assert await store.begin("idem:t:2", "fp", "lapsed", 300) is None

    async def taken_over() -> bool:
        return await store.begin("idem:t:2", "fp", "retry", 10_000) is None

    await wait_until(taken_over, "taken over")  # the first owner's lease lapsed
    late = StoredResponse(201, "{}", "fp")
    assert not await store.finish("idem:t:2", "fp", "lapsed", late, 60_000)
    assert not await store.abandon("idem:t:2", "fp", "lapsed")
    pending = await store.get("idem:t:2")
    assert pending is not None and pending.status == 0  # still the retry's claim
    answer = StoredResponse(202, "{}", "fp")
    assert await store.finish("idem:t:2", "fp", "retry", answer, 60_000)
    assert await store.get("idem:t:2") == answer


async def test_a_live_slow_request_keeps_its_claim_and_is_not_duplicated(
        rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    # Renewals every 50 ms against a 1 s lease: a loaded machine may stall the loop for
    # most of a second without the claim lapsing.
    monkeypatch.setattr(idempotency, "LEASE_MS", 1000)
    monkeypatch.setattr(idempotency, "RENEW_S", 0.05)
    monkeypatch.setattr(idempotency, "WAIT_S", 30.0)
    runs = 0
    first_running = asyncio.Event()

    async def slow() -> JSONResponse:
        nonlocal runs
        runs += 1
        first_running.set()
        # Outlive the lease several times over: only the renewals keep the claim.
        await asyncio.sleep(3.5)
        return JSONResponse({"order_id": "o-1"}, status_code=202)

    body = json.dumps({"payment_token": "tok_visa"}).encode()
    first = asyncio.create_task(idempotency.idempotent(_request(body), rt.idempotency, USER, slow))
    running = asyncio.create_task(first_running.wait())
    await asyncio.wait({first, running}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if not first_running.is_set():  # the first request ended (or stalled) before computing
        running.cancel()
        raise AssertionError(f"the first request did not run: {first}")
    second = await idempotency.idempotent(_request(body), rt.idempotency, USER, slow)
    answer = await first
    assert runs == 1
    assert answer.status_code == second.status_code == 202
    assert second.headers["idempotent-replayed"] == "true"
    assert json.loads(bytes(second.body)) == {"order_id": "o-1"}
