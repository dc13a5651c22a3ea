"""``Idempotency-Key`` on hold and checkout: a retried request with the same key answers the
first answer and does nothing twice.

The first request claims the key (per user) and stores its answer, success or 4xx, for 24 h;
a concurrent duplicate waits for that answer; a key reused for a different request is
refused with 422; a 5xx or crash releases the key so the client may retry. While Redis (the
store of keys) is unreachable, keys are not enforced: the request runs once as sent (written down in
docs/architecture.md; a checkout retry still finds its order, a hold retry may take a
second hold, which expires).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable

from fastapi import Header, Request
from fastapi.responses import JSONResponse, Response

from shared.api.problems import PROBLEM, domain_problem, problem
from shared.errors import DomainError, StoreUnavailable
from shared.models import Principal
from shared.ports import IdempotencyStore, StoredResponse

TTL_MS = 24 * 3600 * 1000
WAIT_S = 10.0
HEADER = "Idempotency-Key"
# Declares the header in the OpenAPI document; the value is read from the request itself.
IDEMPOTENCY_KEY = Header(alias=HEADER, max_length=200,
                         description="Retry-safe key: a repeat answers the first answer")


async def idempotent(request: Request, store: IdempotencyStore, user: Principal,
                     compute: Callable[[], Awaitable[JSONResponse]]) -> Response:
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
    try:
        stored = await store.begin(slot, fingerprint, TTL_MS)
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
        stored = await store.begin(slot, fingerprint, TTL_MS)
    try:
        response = await compute()
    except DomainError as exc:
        response = domain_problem(exc, request.url.path)
    except BaseException:
        with contextlib.suppress(StoreUnavailable):
            await store.abandon(slot)
        raise
    try:
        if response.status_code >= 500:
            await store.abandon(slot)
        else:
            await store.finish(slot, StoredResponse(
                status=response.status_code, body=bytes(response.body).decode(),
                fingerprint=fingerprint, location=response.headers.get("location", "")),
                TTL_MS)
    except StoreUnavailable:
        pass  # Redis failed meanwhile: the answer stands; the key's pending marker expires
    return response


def _replay(stored: StoredResponse) -> Response:
    headers = {"Idempotent-Replayed": "true"}
    if stored.location:
        headers["Location"] = stored.location
    media = PROBLEM if stored.status >= 400 else "application/json"
    return Response(stored.body, status_code=stored.status, media_type=media, headers=headers)
