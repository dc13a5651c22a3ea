"""``Idempotency-Key`` on hold and checkout: a retried request with the same key answers the
first answer and does nothing twice.

The first request claims the key (per user) and stores its answer, success or 4xx, for 24 h;
a concurrent duplicate waits for that answer; a key reused for a different request is
refused with 422; a 5xx or an exception releases the key so the client may retry.

The claim is a lease: it lives ``LEASE_MS`` and a background task renews it while the request
runs, so a slow request keeps it, and the claim of a request whose server died (kill -9, a
lost instance) expires within seconds; a retry then runs the request again (hold and
checkout are safe to repeat: a checkout of a hold in checkout answers its existing order).

While Redis (the store of keys) is unreachable, keys are not enforced: the request runs once
as sent (written down in docs/architecture.md; a checkout retry still finds its order, a
hold retry may take a second hold, which expires).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import Header, Request
from fastapi.responses import Response

from shared.api.problems import PROBLEM, domain_problem, problem
from shared.errors import DomainError, StoreUnavailable
from shared.models import Principal
from shared.ports import IdempotencyStore, StoredResponse

log = logging.getLogger(__name__)

TTL_MS = 24 * 3600 * 1000
LEASE_MS = 10_000
RENEW_S = 3.0  # well inside the lease, so one slow renewal does not lose it
# A duplicate waits a little longer than one lease: when the first request's server died,
# the duplicate takes the key over within its own request.
WAIT_S = 12.0
STOP_WAIT_S = 1.0  # the longest a finished request waits for its heartbeat to end
HEADER = "Idempotency-Key"
# Declares the header in the OpenAPI document; the value is read from the request itself.
IDEMPOTENCY_KEY = Header(alias=HEADER, max_length=200,
                         description="Retry-safe key: a repeat answers the first answer")


async def idempotent(request: Request, store: IdempotencyStore, user: Principal,
                     compute: Callable[[], Awaitable[Response]]) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return await compute()
    if not 1 <= len(key) <= 200 or not key.isprintable():
        return problem(422, "invalid-input", f"{HEADER}: 1 to 200 printable characters",
                       field=HEADER, instance=request.url.path)
    body = await request.body()
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + body).hexdigest()
    slot = f"idem:{user.user_id}:{hashlib.sha256(key.encode()).hexdigest()}"
    deadline = time.monotonic() + WAIT_S
    owner = uuid.uuid4().hex
    try:
        stored = await store.begin(slot, fingerprint, owner, LEASE_MS)
    except StoreUnavailable:
        return await compute()
    while stored is not None:
        if stored.fingerprint != fingerprint:
            return problem(422, "idempotency-key-reused",
                           f"{HEADER} was already used for a different request",
                           field=HEADER, instance=request.url.path)
        if stored.status:
            return _replay(stored)
        if time.monotonic() > deadline:
            return problem(409, "idempotency-key-in-progress",
                           f"a request with this {HEADER} is still being processed",
                           field=HEADER, instance=request.url.path,
                           headers={"Retry-After": "1"})
        await asyncio.sleep(0.05)  # a duplicate in flight: wait for its answer
        try:
            stored = await store.begin(slot, fingerprint, owner, LEASE_MS)
        except StoreUnavailable:  # Redis went down meanwhile: keys are not enforced
            return await compute()
    renewal = _Renewal(store, slot, fingerprint, owner)
    try:
        response = await compute()
    except DomainError as exc:
        response = domain_problem(exc, request.url.path).response()
    except BaseException:
        await renewal.stop()
        with contextlib.suppress(StoreUnavailable):
            await store.abandon(slot, fingerprint, owner)
        raise
    await renewal.stop()
    try:
        # Both change nothing when this claim lapsed and a retry took the key meanwhile.
        if response.status_code >= 500:
            await store.abandon(slot, fingerprint, owner)
        else:
            await store.finish(slot, fingerprint, owner, StoredResponse(
                status=response.status_code, body=bytes(response.body).decode(),
                fingerprint=fingerprint, location=response.headers.get("location", "")),
                TTL_MS)
    except StoreUnavailable:
        pass  # Redis failed meanwhile: the answer stands; the key's lease expires
    return response


class _Renewal:
    """The lease's heartbeat for one request: renews the claim every ``RENEW_S`` until
    stopped. Stopping sets a flag as well as cancelling, and waits a bounded time: a
    cancellation that lands inside a Redis call can be absorbed by the client (seen as a
    test run that never ended), and a request must never wait on its heartbeat."""

    def __init__(self, store: IdempotencyStore, slot: str, fingerprint: str,
                 owner: str) -> None:
        self._stopped = asyncio.Event()
        self._task = asyncio.create_task(self._run(store, slot, fingerprint, owner))

    async def _run(self, store: IdempotencyStore, slot: str, fingerprint: str,
                   owner: str) -> None:
        while not self._stopped.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), RENEW_S)
            if self._stopped.is_set():
                return
            try:
                if not await store.renew(slot, fingerprint, owner, LEASE_MS):
                    log.warning("idempotency: the claim on %s was lost while its request ran",
                                slot)
                    return
            except Exception as exc:  # Redis briefly away: the next beat tries again
                log.warning("idempotency: renewing %s failed: %s", slot, exc)

    async def stop(self) -> None:
        self._stopped.set()
        self._task.cancel()
        await asyncio.wait({self._task}, timeout=STOP_WAIT_S)


def _replay(stored: StoredResponse) -> Response:
    headers = {"Idempotent-Replayed": "true"}
    if stored.location:
        headers["Location"] = stored.location
    media = PROBLEM if stored.status >= 400 else "application/json"
    return Response(stored.body, status_code=stored.status, media_type=media, headers=headers)
