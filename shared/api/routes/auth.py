"""Accounts: register, log in, log out, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from shared.api.deps import RuntimeDep, UserDep, bearer_token
from shared.api.schemas import LoginIn, LoginOut, RegisterIn, RegisterOut, UserOut
from shared.models import iso

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post("/auth/register", status_code=201, response_model=RegisterOut)
async def register(body: RegisterIn, rt: RuntimeDep) -> RegisterOut:
    user = await rt.accounts.register(body.email, body.password, body.display_name)
    return RegisterOut(user_id=user.id)


@router.post("/auth/login", response_model=LoginOut)
async def login(body: LoginIn, rt: RuntimeDep) -> LoginOut:
    token, p = await rt.accounts.login(body.email, body.password)
    return LoginOut(token=token, expires_at=iso(p.expires_at),
                    user=UserOut(user_id=p.user_id, email=p.email,
                                 display_name=p.display_name, role=p.role))


@router.post("/auth/logout", status_code=204)
async def logout(request: Request, rt: RuntimeDep, _user: UserDep) -> Response:
    await rt.accounts.logout(bearer_token(request))
    return Response(status_code=204)


@router.get("/me", response_model=UserOut)
async def me(user: UserDep) -> UserOut:
    return UserOut(user_id=user.user_id, email=user.email, display_name=user.display_name,
                   role=user.role)
