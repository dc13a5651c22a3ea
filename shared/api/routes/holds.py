"""A buyer's hold: read it, cancel it, or check it out (pay)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from shared.api.deps import RuntimeDep, UserDep
from shared.api.schemas import CheckoutIn, CheckoutOut, HoldOut

router = APIRouter(prefix="/api/holds", tags=["holds"])


@router.get("/{hold_id}", response_model=HoldOut)
async def get_hold(hold_id: str, rt: RuntimeDep, user: UserDep) -> HoldOut:
    return HoldOut.of(await rt.holds.get(user, hold_id))


@router.delete("/{hold_id}", status_code=204)
async def release_hold(hold_id: str, rt: RuntimeDep, user: UserDep) -> Response:
    await rt.holds.release(user, hold_id)
    return Response(status_code=204)


@router.post("/{hold_id}/checkout", status_code=202, response_model=CheckoutOut)
async def checkout(hold_id: str, body: CheckoutIn, rt: RuntimeDep, user: UserDep,
                   response: Response) -> CheckoutOut:
    hold = await rt.checkout.checkout(user, hold_id, body.payment_token)
    assert hold.order_id is not None
    response.headers["Location"] = f"/api/orders/{hold.order_id}"
    status = "confirmed" if hold.status.value == "committed" else "pending"
    return CheckoutOut(order_id=hold.order_id, status=status)
