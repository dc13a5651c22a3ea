"""Orders: one order (pending until its payment is processed), and the caller's orders."""

from __future__ import annotations

from fastapi import APIRouter

from shared.api.deps import RuntimeDep, UserDep
from shared.api.schemas import OrderOut, OrdersOut

router = APIRouter(prefix="/api", tags=["orders"])


@router.get("/orders/{order_id}", response_model=OrderOut)
async def get_order(order_id: str, rt: RuntimeDep, user: UserDep) -> OrderOut:
    order = await rt.orders.get(user, order_id)
    return OrderOut.of((await rt.console.with_refunds([order]))[0])


@router.get("/me/orders", response_model=OrdersOut)
async def my_orders(rt: RuntimeDep, user: UserDep) -> OrdersOut:
    orders = await rt.console.with_refunds(await rt.orders.mine(user))
    return OrdersOut(items=[OrderOut.of(o) for o in orders])
