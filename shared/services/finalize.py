"""Finalize: the payments-queue handler. Charges the buyer and writes the order, once.

Idempotent by construction: the gateway charge carries ``idempotency_key = order_id`` (a
repeat returns the first charge) and the ledger's unique ``orders.id``/``orders.hold_id``
decide which handler's outcome stands; the loser adopts it (refunding its charge if the
winner failed the order). The hold in Redis follows the ledger: committed when the order
is confirmed, released when it failed, and a failed order never keeps money: settling it
refunds any charge made under its key (by whichever attempt made it). Transient errors
raise, so the queue redelivers; past the max delivery count the dead-letter handler fails
the order. An order made in degraded mode (``ids.is_degraded_id``) has its hold in SQL: the
same steps read, confirm and release that hold through ``DegradedLedger`` instead.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from opentelemetry.trace import SpanKind

from shared import ids, telemetry
from shared.errors import LedgerSoldOut, PaymentDeclined
from shared.models import (
    FailReason,
    HoldStatus,
    Order,
    OrderStatus,
    PaymentRequest,
    Ticket,
)
from shared.ports import DegradedLedger, InventoryStore, Ledger, PaymentGateway

log = logging.getLogger(__name__)


class Finalizer:
    def __init__(self, store: InventoryStore, ledger: Ledger, gateway: PaymentGateway,
                 clock: Callable[[], int], sql_holds: DegradedLedger | None = None) -> None:
        self._store = store
        self._ledger = ledger
        self._gateway = gateway
        self._clock = clock
        self._sql_holds = sql_holds

    def _sql(self, hold_id: str) -> DegradedLedger | None:
        """The SQL hold store when ``hold_id`` was made in degraded mode."""
        return self._sql_holds if ids.is_degraded_id(hold_id) else None

    async def handle(self, request: PaymentRequest) -> Order:
        started = time.perf_counter()
        with telemetry.tracer.start_as_current_span(
                "finalize", context=telemetry.extract(request.trace), kind=SpanKind.CONSUMER,
                attributes={"leap.order_id": request.order_id}) as span:
            order = await self._handle(request)
            span.set_attribute("leap.order_status", order.status.value)
        telemetry.finalize_ms.record((time.perf_counter() - started) * 1000,
                                     {"status": order.status.value})
        return order

    async def _handle(self, request: PaymentRequest) -> Order:
        existing = await self._ledger.get_order(request.order_id)
        if existing is not None:
            await self.settle(existing)  # a crash may have come between ledger and Redis
            return existing
        sql = self._sql(request.hold_id)
        hold = (await sql.get_hold(request.hold_id) if sql is not None
                else await self._store.get_hold(request.event_id, request.hold_id))
        if hold is not None and hold.status == HoldStatus.RELEASED:
            order = await self._ledger.record_failed(request, FailReason.HOLD_EXPIRED,
                                                     self._clock())
            await self.settle(order)
            return order
        try:
            charge = await self._gateway.charge(
                amount=request.amount, currency=request.currency,
                token=request.payment_token, idempotency_key=request.order_id,
            )
        except PaymentDeclined:
            telemetry.declines.add(1)
            order = await self._ledger.record_failed(request, FailReason.PAYMENT_DECLINED,
                                                     self._clock())
            await self.settle(order)
            return order
        tickets = [
            Ticket(id=str(uuid.uuid4()), order_id=request.order_id, event_id=request.event_id,
                   ticket_type_id=item.ticket_type_id, code=ids.new_ticket_code())
            for item in request.items for _ in range(item.quantity)
        ]
        try:
            if sql is not None:
                order = await sql.record_confirmed(request, charge, tickets, self._clock())
            else:
                order = await self._ledger.record_confirmed(request, charge, tickets,
                                                            self._clock())
        except LedgerSoldOut:
            log.warning("finalize: ledger refused %s as an oversell; refunding", request.order_id)
            order = await self._ledger.record_failed(request, FailReason.SOLD_OUT,
                                                     self._clock(), refunded=charge)
        await self.settle(order)
        return order

    async def handle_dead_letter(self, request: PaymentRequest) -> Order:
        """The message outlived its deliveries: fail the order, refund any charge, release."""
        telemetry.dead_letters.add(1)
        existing = await self._ledger.get_order(request.order_id)
        if existing is not None:
            await self.settle(existing)
            return existing
        charge = await self._gateway.find_charge(request.order_id)
        order = await self._ledger.record_failed(request, FailReason.PAYMENT_ERROR,
                                                 self._clock(), refunded=charge)
        await self.settle(order)
        return order

    async def settle(self, order: Order) -> None:
        """Make the gateway and the hold in Redis agree with the ledger's final order.

        Idempotent: a confirmed order commits its hold; a failed one refunds any charge made
        under its key that is not refunded yet, then releases its hold.
        """
        now = self._clock()
        sql = self._sql(order.hold_id)
        if sql is not None:
            await self._settle_sql(sql, order, now)
        elif order.status == OrderStatus.CONFIRMED:
            result = await self._store.commit(order.event_id, order.hold_id, order.id, now)
            if not result.ok and result.error != "missing":
                log.error("finalize: commit of %s answered %s", order.id, result.error)
        elif order.status == OrderStatus.FAILED:
            charge = await self._gateway.find_charge(order.id)
            if charge is not None and not charge.refunded:
                await self._gateway.refund(charge)
            result = await self._store.release(
                order.event_id, order.hold_id, None, now, order.reason or "failed",
                allow_checkout=True)
            if not result.ok and result.error not in ("not_found", "committed"):
                log.error("finalize: release of %s answered %s", order.id, result.error)

    async def _settle_sql(self, sql: DegradedLedger, order: Order, now: int) -> None:
        """``settle`` for an order whose hold is in SQL (made in degraded mode)."""
        if order.status == OrderStatus.CONFIRMED:
            await sql.commit(order.hold_id, now)
        elif order.status == OrderStatus.FAILED:
            charge = await self._gateway.find_charge(order.id)
            if charge is not None and not charge.refunded:
                await self._gateway.refund(charge)
            result = await sql.release(order.hold_id, None, now, order.reason or "failed",
                                       allow_checkout=True)
            if not result.ok and result.error not in ("not_found", "committed"):
                log.error("finalize: release of SQL hold of %s answered %s", order.id,
                          result.error)
