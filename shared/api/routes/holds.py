"""A buyer's hold: read it, cancel it, or check it out (pay)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from shared.api.deps import RuntimeDep, UserDep
from shared.api.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.api.schemas import CheckoutIn, CheckoutOut, HoldOut
from shared.models import Hold, HoldStatus

router = APIRouter(prefix="/api/holds", tags=["holds"])


@router.get("/{hold_id}", response_model=HoldOut)
async def get_hold(hold_id: str, rt: RuntimeDep, user: UserDep) -> HoldOut:
    return HoldOut.of(await rt.holds.get(user, hold_id))


@router.delete("/{hold_id}", status_code=204)
async def release_hold(hold_id: str, rt: RuntimeDep, user: UserDep) -> Response:
    await rt.holds.release(user, hold_id)
    return Response(status_code=204)


def checkout_status(hold: Hold) -> str:
    """A checked-out hold's order as the checkout answer names it."""
    return "confirmed" if hold.status == HoldStatus.COMMITTED else "pending"


@router.post("/{hold_id}/checkout", status_code=202, response_model=CheckoutOut)
async def checkout(hold_id: str, body: CheckoutIn, request: Request, rt: RuntimeDep,
                   user: UserDep,
                   idempotency_key: Annotated[str | None, IDEMPOTENCY_KEY] = None) -> Response:
    async def compute() -> JSONResponse:
        hold = await rt.checkout.checkout(user, hold_id, body.payment_token)
        assert hold.order_id is not None
        return JSONResponse(CheckoutOut(order_id=hold.order_id,
                                        status=checkout_status(hold)).model_dump(),
                            status_code=202, headers={"Location": f"/api/orders/{hold.order_id}"})

    return await idempotent(request, rt.idempotency, user, compute)
