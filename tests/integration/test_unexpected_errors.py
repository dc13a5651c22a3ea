"""An unexpected exception answers a bare 500 problem+json: no stack trace, no message."""

from __future__ import annotations

import httpx

from shared.api.app import create_app
from shared.runtime import Runtime
from tests.support import make_buyer


async def test_unexpected_error_is_a_bare_500_problem(rt: Runtime) -> None:
    token, _ = await make_buyer(rt)

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret internal detail: db password is hunter2")

    rt.orders.mine = broken  # type: ignore[assignment,method-assign]
    app = create_app(rt)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        r = await client.get("/api/me/orders", headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "something went wrong on our side"
    assert "hunter2" not in r.text and "Traceback" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"
