"""Liveness (``/api/health``) and readiness (``/api/health/ready``: every dependency answers)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from shared.api.deps import RuntimeDep
from shared.api.problems import problem
from shared.api.schemas import HealthOut

router = APIRouter(prefix="/api/health", tags=["health"])


@router.get("", response_model=HealthOut)
async def health() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/ready", response_model=HealthOut)
async def ready(rt: RuntimeDep) -> HealthOut | JSONResponse:
    checks: dict[str, str] = {}
    for name, probe in (("redis", rt.redis.ping), ("sql", rt.ledger.ping),
                        ("catalog", rt.catalog_store.count_events)):
        try:
            await probe()
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"failed: {type(exc).__name__}"
    failed = [k for k, v in checks.items() if v != "ok"]
    if failed:
        return problem(503, "dependency-unavailable", f"not ready: {', '.join(failed)}",
                       dependency=failed[0], checks=checks)
    return HealthOut(status="ready", checks=checks)
