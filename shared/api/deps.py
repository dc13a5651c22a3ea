"""FastAPI dependencies: the runtime, and who is calling (bearer token -> principal)."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import Depends, Request

from shared.errors import Forbidden, Unauthorized
from shared.models import Principal
from shared.runtime import Runtime
from shared.settings import Settings


async def runtime(request: Request) -> Runtime:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per request.
    rt: Runtime = request.app.state.runtime()
    return rt


def proxy_hops(settings: Settings) -> int:
    """How many proxies in front of the app append to X-Forwarded-For: FORWARDED_HOPS, or 1
    when only the older TRUST_FORWARDED_FOR is set."""
    if settings.forwarded_hops is not None:
        return settings.forwarded_hops
    return 1 if settings.trust_forwarded_for else 0


def _address(entry: str) -> str | None:
    """The IP address of one X-Forwarded-For entry (``1.2.3.4``, ``1.2.3.4:5678``,
    ``[2001:db8::1]:443``, ``2001:db8::1``), or None when it is not one."""
    entry = entry.strip()
    if entry.startswith("["):
        entry = entry[1:].split("]", 1)[0]
    elif entry.count(":") == 1:
        entry = entry.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(entry))
    except ValueError:
        return None


def client_ip(request: Request, hops: int) -> str:
    """The caller's address; the app alone decides it (uvicorn's proxy_headers is off).

    With ``hops`` trusted proxies in front (Front Door -> Functions is one), each appends the
    address it saw to X-Forwarded-For, so the client is the ``hops``-th entry from the right;
    everything left of it came from the client and may be forged. With 0 hops, or a header
    shorter than the proxies would make it, the connection's peer address counts."""
    peer = request.client.host if request.client else "unknown"
    if hops <= 0:
        return peer
    entries = [e for value in request.headers.getlist("x-forwarded-for")
               for e in value.split(",")]
    if len(entries) < hops:
        return peer
    return _address(entries[-hops]) or peer


def bearer_token(request: Request) -> str:
    return bearer_from(request.headers.get("authorization", ""))


def bearer_from(header: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token> from POST /api/auth/login")
    return token.strip()


async def current_user(request: Request,
                       rt: Annotated[Runtime, Depends(runtime)]) -> Principal:
    return await rt.accounts.authenticate(bearer_token(request))


async def admin_user(user: Annotated[Principal, Depends(current_user)]) -> Principal:
    if not user.is_admin:
        raise Forbidden("organiser (admin) role required")
    return user


RuntimeDep = Annotated[Runtime, Depends(runtime)]
UserDep = Annotated[Principal, Depends(current_user)]
AdminDep = Annotated[Principal, Depends(admin_user)]
