"""Finalize: the payments-queue handler. Charges the buyer and writes the order, once.

Idempotent by construction: the gateway charge carries ``idempotency_key = order_id`` (a
repeat returns the first charge) and the ledger's unique ``orders.id``/``orders.hold_id``
decide which handler's outcome stands; the loser adopts it (refunding its charge if the
winner failed the order). The hold in Redis follows the ledger: committed when the order
is confirmed, released when it failed, and a failed order never keeps money: settling it
refunds any charge made under its key (by whichever attempt made it). Transient errors
raise, so the queue redelivers; past the max delivery count the dead-letter handler fails
the order.

Messages come in batches (``handle_batch``): one ledger read for the batch, the charges
made concurrently, the charged orders written in ONE ledger transaction, their holds
committed in one pipelined Redis round trip. Each message still has its own outcome: a
decline, a transient error or an oversell refusal of one order does not fail, delay or
redeliver the others. When the batch transaction is refused (a capacity guard, or an order
someone else already wrote) nothing of it was written, and its orders are written one
transaction each, where the guard and the arbiter row decide each order alone.

An order made in degraded mode (``ids.is_degraded_id``) has its hold in SQL: the same steps
read, confirm and release that hold through ``DegradedLedger`` instead, one transaction per
order (confirming moves its tickets from the SQL hold to ``sold``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar, cast

from opentelemetry.trace import Span, SpanKind

from shared import ids, telemetry
from shared.errors import LedgerBatchRefused, LedgerSoldOut, PaymentDeclined
from shared.models import (
    Charge,
    FailReason,
    Hold,
    HoldStatus,
    Order,
    OrderStatus,
    PaymentRequest,
    Ticket,
)
from shared.ports import (
    DegradedLedger,
    HoldCommit,
    InventoryStore,
    Ledger,
    OrderNotices,
    PaymentGateway,
    Sale,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

Outcome = Order | Exception
"""What one message came to: its final order (settle the message), or the error that
stopped it (leave the message to the queue's redelivery)."""


def _tickets(request: PaymentRequest) -> tuple[Ticket, ...]:
    return tuple(
        Ticket(id=ids.new_id(), order_id=request.order_id, event_id=request.event_id,
               ticket_type_id=item.ticket_type_id, code=ids.new_ticket_code())
        for item in request.items for _ in range(item.quantity)
    )


def _checked(results: Sequence[T | BaseException]) -> list[T | Exception]:
    """``gather(return_exceptions=True)`` results, re-raising a cancellation (not an
    outcome of any one message)."""
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, Exception):
            raise r
    return cast(list[T | Exception], list(results))


class Finalizer:
    def __init__(self, store: InventoryStore, ledger: Ledger, gateway: PaymentGateway,
                 clock: Callable[[], int], sql_holds: DegradedLedger | None = None,
                 notices: OrderNotices | None = None,
                 returned: Callable[[str], Awaitable[None]] | None = None) -> None:
        self._store = store
        self._notices = notices
        self._returned = returned  # the waiting list's offer step (issue 16)
        self._ledger = ledger
        self._gateway = gateway
        self._clock = clock
        self._sql_holds = sql_holds

    def _sql(self, hold_id: str) -> DegradedLedger | None:
        """The SQL hold store when ``hold_id`` was made in degraded mode."""
        return self._sql_holds if ids.is_degraded_id(hold_id) else None

    async def _get_holds(self, requests: Sequence[PaymentRequest]
                         ) -> list[Hold | BaseException | None]:
        """The requests' holds: Redis ones in one pipelined round trip (a failure fails
        each of them), SQL ones (degraded mode) one by one."""
        found: dict[str, Hold | BaseException | None] = {}
        in_redis = [r for r in requests if self._sql(r.hold_id) is None]
        try:
            holds = await self._store.get_holds([(r.event_id, r.hold_id) for r in in_redis])
            found.update((r.hold_id, h) for r, h in zip(in_redis, holds, strict=True))
        except Exception as exc:
            found.update((r.hold_id, exc) for r in in_redis)
        if self._sql_holds is not None:
            in_sql = [r for r in requests if r.hold_id not in found]
            sql_holds = await asyncio.gather(
                *(self._sql_holds.get_hold(r.hold_id) for r in in_sql), return_exceptions=True)
            found.update((r.hold_id, h) for r, h in zip(in_sql, sql_holds, strict=True))
        return [found[r.hold_id] for r in requests]

    async def handle(self, request: PaymentRequest) -> Order:
        """One message: its order, or raises so that the queue redelivers it."""
        (outcome,) = await self.handle_batch([request])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def handle_batch(self, requests: Sequence[PaymentRequest]) -> list[Outcome]:
        """A batch of messages: one outcome per message, in order (see the module doc)."""
        unique = list({r.order_id: r for r in requests}.values())  # a duplicate shares
        started = time.perf_counter()
        spans = {r.order_id: telemetry.tracer.start_span(
            "finalize", context=telemetry.extract(r.trace), kind=SpanKind.CONSUMER,
            attributes={"leap.order_id": r.order_id}) for r in unique}
        try:
            outcomes = await self._batch(unique)
        except Exception as exc:  # a batch-wide fault: every message retries
            outcomes = {r.order_id: exc for r in unique}
        elapsed_ms = (time.perf_counter() - started) * 1000
        for order_id, span in spans.items():
            self._end_span(span, outcomes[order_id], elapsed_ms)
        await self._announce(outcomes.values())
        return [outcomes[r.order_id] for r in requests]

    async def _announce(self, outcomes: Iterable[Outcome]) -> None:
        """Wake the buyers waiting on these orders (one publish per batch)."""
        final = [o.id for o in outcomes
                 if isinstance(o, Order) and o.status != OrderStatus.PENDING]
        if self._notices is not None and final:
            await self._notices.publish(final)

    @staticmethod
    def _end_span(span: Span, outcome: Outcome, elapsed_ms: float) -> None:
        if isinstance(outcome, Exception):
            span.record_exception(outcome)
            span.end()
            return
        span.set_attribute("leap.order_status", outcome.status.value)
        span.end()
        telemetry.finalize_ms.record(elapsed_ms, {"status": outcome.status.value})

    async def _batch(self, requests: Sequence[PaymentRequest]) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        decided = await self._ledger.get_orders([r.order_id for r in requests])
        # Orders already in the ledger: a crash may have come between ledger and Redis.
        fresh = [r for r in requests if r.order_id not in decided]
        holds = await self._get_holds(fresh)
        to_charge: list[PaymentRequest] = []
        expired: list[PaymentRequest] = []
        for r, hold in zip(fresh, _checked(holds), strict=True):
            if isinstance(hold, Exception):
                outcomes[r.order_id] = hold
            elif hold is not None and hold.status == HoldStatus.RELEASED:
                expired.append(r)
            else:
                to_charge.append(r)
        charges = await asyncio.gather(*(self._charge(r) for r in to_charge),
                                       return_exceptions=True)
        declined: list[PaymentRequest] = []
        sales: list[Sale] = []
        for r, charge in zip(to_charge, _checked(charges), strict=True):
            if isinstance(charge, PaymentDeclined):
                telemetry.declines.add(1)
                declined.append(r)
            elif isinstance(charge, Exception):
                outcomes[r.order_id] = charge  # transient: the queue redelivers this one
            else:
                sales.append(Sale(r, charge, _tickets(r)))
        failures = await asyncio.gather(
            *(self._ledger.record_failed(r, FailReason.HOLD_EXPIRED, self._clock())
              for r in expired),
            *(self._ledger.record_failed(r, FailReason.PAYMENT_DECLINED, self._clock())
              for r in declined),
            return_exceptions=True)
        for r, failed in zip([*expired, *declined], _checked(failures), strict=True):
            outcomes[r.order_id] = failed
        outcomes.update(await self._record_sales(sales))
        to_settle = {**decided, **{k: v for k, v in outcomes.items() if isinstance(v, Order)}}
        outcomes.update(await self._settle_many(list(to_settle.values())))
        return outcomes

    async def _charge(self, request: PaymentRequest) -> Charge:
        return await self._gateway.charge(
            amount=request.amount, currency=request.currency, token=request.payment_token,
            idempotency_key=request.order_id)

    async def _record_sales(self, sales: Sequence[Sale]) -> dict[str, Outcome]:
        """Write charged orders: in one transaction, or (refused) one transaction each.
        Degraded-mode orders are always written on their own (their SQL hold moves too)."""
        written: dict[str, Outcome] = {}
        single = [s for s in sales if self._sql(s.request.hold_id) is not None]
        batch = [s for s in sales if self._sql(s.request.hold_id) is None]
        if len(batch) > 1:
            try:
                orders = await self._ledger.record_confirmed_batch(batch, self._clock())
                written = {o.id: o for o in orders}
                batch = []
            except LedgerBatchRefused as exc:
                log.info("finalize: batch of %d refused (%s); one transaction per order",
                         len(batch), exc)
        one_by_one = [*batch, *single]
        results: list[Outcome] = []
        for sale in one_by_one:  # one at a time: the ledger serializes writers anyway
            try:
                results.append(await self._record_sale(sale))
            except Exception as exc:  # this order retries; the others stand
                results.append(exc)
        written.update(
            {s.request.order_id: out for s, out in zip(one_by_one, results, strict=True)})
        return written

    async def _record_sale(self, sale: Sale) -> Order:
        try:
            sql = self._sql(sale.request.hold_id)
            if sql is not None:
                return await sql.record_confirmed(sale.request, sale.charge, list(sale.tickets),
                                                  self._clock())
            return await self._ledger.record_confirmed(sale.request, sale.charge,
                                                       sale.tickets, self._clock())
        except LedgerSoldOut:
            log.warning("finalize: ledger refused %s as an oversell; refunding",
                        sale.request.order_id)
            return await self._ledger.record_failed(sale.request, FailReason.SOLD_OUT,
                                                    self._clock(), refunded=sale.charge)

    async def _settle_many(self, settled: Sequence[Order]) -> dict[str, Outcome]:
        """``settle`` for many orders: the confirmed ones' commits in one round trip."""
        out: dict[str, Outcome] = {}
        confirmed = [o for o in settled
                     if o.status == OrderStatus.CONFIRMED and self._sql(o.hold_id) is None]
        others = [o for o in settled
                  if o.status != OrderStatus.CONFIRMED or self._sql(o.hold_id) is not None]
        if len(confirmed) == 1:
            others.append(confirmed.pop())
        if confirmed:
            answers = await self._store.commit_many(
                [HoldCommit(o.event_id, o.hold_id, o.id) for o in confirmed], self._clock())
            for order, answer in zip(confirmed, answers, strict=True):
                if isinstance(answer, Exception):
                    out[order.id] = answer  # redelivered: the ledger row makes it a commit
                    continue
                if not answer.ok and answer.error != "missing":
                    log.error("finalize: commit of %s answered %s", order.id, answer.error)
                out[order.id] = order
        results = await asyncio.gather(*(self.settle(o) for o in others),
                                       return_exceptions=True)
        for order, result in zip(others, _checked(results), strict=True):
            out[order.id] = result if isinstance(result, Exception) else order
        return out

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

    async def handle_dead_letter_batch(
            self, requests: Sequence[PaymentRequest]) -> list[Outcome]:
        """Dead letters are few: each is handled on its own, concurrently."""
        results = _checked(await asyncio.gather(
            *(self.handle_dead_letter(r) for r in requests), return_exceptions=True))
        await self._announce(results)
        return results

    async def settle(self, order: Order) -> None:
        """Make the gateway and the hold (in Redis, or in SQL for a degraded-mode order)
        agree with the ledger's final order.

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
            elif result.ok and not result.get("already") and self._returned is not None:
                await self._returned(order.event_id)  # failures only: not the hot path

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
