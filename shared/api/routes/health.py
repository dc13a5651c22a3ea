"""Liveness (``/api/health``) and readiness (``/api/health/ready``: every dependency answers).

Redis down (its breaker open, or the ping fails) is not "not ready": the shop keeps selling
from SQL, so readiness answers 200 ``{"status": "degraded", "degraded": ["redis"]}``. SQL
(which degraded mode needs) or the catalog down answers 503.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from shared.api.deps import RuntimeDep
from shared.api.problems import problem
from shared.api.schemas import HealthOut

router = APIRouter(prefix="/api/health", tags=["health"])


@router.get("", response_model=HealthOut)
async def health() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/ready", response_model=HealthOut)
async def ready(rt: RuntimeDep) -> HealthOut | Response:
    checks: dict[str, str] = {}
    if rt.breaker.is_open:
        checks["redis"] = "degraded: circuit breaker open"
    else:
        try:
            await rt.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"degraded: {type(exc).__name__}"
    for name, probe in (("sql", rt.ledger.ping), ("catalog", rt.catalog_store.count_events)):
        try:
            await probe()
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"failed: {type(exc).__name__}"
    failed = [k for k, v in checks.items() if v.startswith("failed")]
    if failed:
        return problem(503, "dependency-unavailable", f"not ready: {', '.join(failed)}",
                       dependency=failed[0], checks=checks, headers={"Retry-After": "5"})
    degraded = [k for k, v in checks.items() if v.startswith("degraded")]
    if degraded:
        return HealthOut(status="degraded", degraded=degraded, checks=checks)
    return HealthOut(status="ready", checks=checks)
