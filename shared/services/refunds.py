"""Refunds and cancellations by the organiser: a whole confirmed order or some of its tickets.

Order of steps, each idempotent so a retry (or a crash and a retry) finishes the job:
1. the ledger, in one transaction: void the tickets, take them off ``sold`` (guarded, never
   below 0) and record the refund ``pending``. From here the tickets are not valid, and the
   sum available + held + sold is short of capacity by them, which can only undersell;
2. the processor refunds the amount with the refund id as idempotency key -> ``refunded``;
3. ``restock.lua`` gives the tickets back to Redis once per refund id -> ``done``; the sum is
   whole again. Putting them on sale before the ledger would let a buyer be sold a seat the
   ledger still counts as sold (its guard would refuse, and that buyer be refunded).
A refund stuck between steps (processor down, crash) is finished by the next refund call for
the order or by ``resume``, which the reconciler runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from shared import ids
from shared.errors import DependencyUnavailable, InvalidInput, NotFound
from shared.models import Principal
from shared.ports import AuditLog, CatalogStore, PaymentGateway
from shared.ports_console import ConsoleLedger, LiveInventory, PartialRefunds, Refund

log = logging.getLogger(__name__)


class RefundService:
    def __init__(self, console: ConsoleLedger, gateway: PaymentGateway, live: LiveInventory,
                 catalog: CatalogStore, audit: AuditLog, clock: Callable[[], int],
                 new_id: Callable[[], str] = ids.new_id,
                 returned: Callable[[str], Awaitable[None]] | None = None) -> None:
        self._console = console
        self._returned = returned  # the waiting list's offer step (issue 16)
        self._gateway = gateway
        self._live = live
        self._catalog = catalog
        self._audit = audit
        self._clock = clock
        self._new_id = new_id

    async def refund(self, order_id: str, ticket_ids: Sequence[str] | None,
                     actor: Principal) -> list[Refund]:
        """Refund the order (``ticket_ids`` None: every ticket still valid); answers every
        refund of the order. Asking again for tickets already refunded changes nothing."""
        event_id = ids.event_of(order_id)
        if event_id is None:
            raise NotFound("order not found")
        if ticket_ids is not None and not ticket_ids:
            raise InvalidInput("name at least one ticket, or leave ticket_ids out for all",
                               field="ticket_ids")
        event = await self._catalog.get_event(event_id)
        prices = {t.id: t.price for t in event.ticket_types} if event else {}
        for earlier in await self._console.refunds_of(order_id):
            if earlier.status != "done":
                await self.complete(earlier)
        refund = await self._console.create_refund(self._new_id(), order_id, ticket_ids,
                                                   prices, actor.user_id, self._clock())
        if refund is not None:
            await self._audit.record_audit(
                actor.user_id, "order.refund", order_id,
                {"refund_id": refund.id, "amount": refund.amount,
                 "tickets": [t for t, _ in refund.tickets]}, self._clock())
            await self.complete(refund)
        return await self._console.refunds_of(order_id)

    async def complete(self, refund: Refund) -> None:
        """Finish the steps after the ledger's: the processor's refund, then the restock."""
        status = refund.status
        if status == "pending":
            charge = await self._console.charge_of(refund.order_id)
            if charge is None or not isinstance(self._gateway, PartialRefunds):
                raise DependencyUnavailable("the payment processor cannot refund this charge")
            try:
                await self._gateway.refund_amount(charge, refund.amount, f"refund:{refund.id}")
            except (OSError, ConnectionError) as exc:
                raise DependencyUnavailable("the payment processor is unavailable; "
                                            "retry to finish the refund") from exc
            await self._console.set_refund_status(refund.id, "refunded", self._clock())
            status = "refunded"
        if status == "refunded":
            await self._live.restock(refund.event_id, refund.id, refund.user_id,
                                     refund.quantities())
            await self._console.set_refund_status(refund.id, "done", self._clock())
            if self._returned is not None:
                await self._returned(refund.event_id)

    async def resume(self, limit: int = 100) -> int:
        """Finish refunds left between steps; returns how many were finished."""
        finished = 0
        for refund in await self._console.unfinished_refunds(limit):
            try:
                await self.complete(refund)
                finished += 1
            except Exception:
                log.warning("refund %s not finished yet", refund.id, exc_info=True)
        return finished
