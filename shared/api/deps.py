"""FastAPI dependencies: the runtime, and who is calling (bearer token -> principal)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shared.errors import Forbidden, Unauthorized
from shared.models import Principal
from shared.runtime import Runtime


async def runtime(request: Request) -> Runtime:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per request.
    rt: Runtime = request.app.state.runtime()
    return rt


def client_ip(request: Request, trust_forwarded_for: bool) -> str:
    """The caller's address. Behind Front Door / the Functions front end, the proxy appends
    the client to X-Forwarded-For; only its last entry is trustworthy, and only when the app
    is configured to sit behind such a proxy (TRUST_FORWARDED_FOR)."""
    if trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            host = last.rsplit(":", 1)[0] if last.count(":") == 1 else last
            return host.strip("[]")
    return request.client.host if request.client else "unknown"


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
