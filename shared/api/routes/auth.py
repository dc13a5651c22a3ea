"""Accounts: register, log in, log out, who am I, and change password.

Register and login are rate limited per client address; login also locks an account after
repeated failures (see ``services/limits.py``).
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request, Response

from shared.api.deps import RuntimeDep, UserDep, bearer_token, client_ip, proxy_hops
from shared.api.schemas import (
    LoginIn,
    LoginOut,
    PasswordChangeIn,
    PasswordPolicyOut,
    RegisterIn,
    RegisterOut,
    UserOut,
)
from shared.models import Principal, iso
from shared.services.accounts import password_policy

router = APIRouter(prefix="/api", tags=["accounts"])


def _login_out(token: str, p: Principal) -> LoginOut:
    return LoginOut(token=token, expires_at=iso(p.expires_at),
                    user=UserOut(user_id=p.user_id, email=p.email,
                                 display_name=p.display_name, role=p.role))


@router.get("/auth/password-policy", response_model=PasswordPolicyOut)
async def get_password_policy(rt: RuntimeDep, response: Response) -> PasswordPolicyOut:
    """The password rules, so the register form states them before a buyer types."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return PasswordPolicyOut(**asdict(password_policy(rt.settings)))


@router.post("/auth/register", status_code=201, response_model=RegisterOut)
async def register(body: RegisterIn, request: Request, rt: RuntimeDep) -> RegisterOut:
    await rt.limits.auth_attempt("register", client_ip(request, proxy_hops(rt.settings)))
    user = await rt.accounts.register(body.email, body.password, body.display_name)
    return RegisterOut(user_id=user.id)


@router.post("/auth/login", response_model=LoginOut)
async def login(body: LoginIn, request: Request, rt: RuntimeDep) -> LoginOut:
    await rt.limits.auth_attempt("login", client_ip(request, proxy_hops(rt.settings)))
    return _login_out(*await rt.accounts.login(body.email, body.password))


@router.post("/auth/logout", status_code=204)
async def logout(request: Request, rt: RuntimeDep, _user: UserDep) -> Response:
    await rt.accounts.logout(bearer_token(request))
    return Response(status_code=204)


@router.get("/me", response_model=UserOut)
async def me(user: UserDep) -> UserOut:
    return UserOut(user_id=user.user_id, email=user.email, display_name=user.display_name,
                   role=user.role)


@router.post("/me/password", response_model=LoginOut)
async def change_password(body: PasswordChangeIn, rt: RuntimeDep, user: UserDep) -> LoginOut:
    """Every session of the account ends (on every device); the answer is a fresh one."""
    return _login_out(*await rt.accounts.change_password(
        user, body.current_password, body.new_password))
