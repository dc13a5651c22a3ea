"""The simulated card processor (the project's one fake, for the one external service that
cannot run here) on a real SQLite file: the charges asked for in one turn of the event loop
are written in one transaction, and each still keeps a processor's promises on its own."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.simulated_gateway import DECLINE, PROCESSING_ERROR, SimulatedGateway
from shared.errors import PaymentDeclined, PaymentUnavailable
from shared.models import Charge


def count_writes(gateway: SimulatedGateway) -> list[int]:
    """Records the size of every transaction the gateway writes."""
    sizes: list[int] = []
    write = gateway._write

    def counted(due: list[Any]) -> None:
        sizes.append(len(due))
        write(due)

    gateway._write = counted  # type: ignore[method-assign]
    return sizes


async def charge(gateway: SimulatedGateway, key: str, token: str = "tok_visa") -> Charge:
    return await gateway.charge(amount=5000, currency="EUR", token=token, idempotency_key=key)


async def test_one_turn_of_charges_is_one_transaction_and_each_settles_alone(
        tmp_path: Path) -> None:
    gateway = SimulatedGateway(tmp_path / "gateway.sqlite")
    sizes = count_writes(gateway)
    results = await asyncio.gather(
        charge(gateway, "o1"), charge(gateway, "o2"), charge(gateway, "o3", DECLINE),
        charge(gateway, "o1"), charge(gateway, "o4", PROCESSING_ERROR),
        return_exceptions=True)
    assert sizes == [4]  # the processing error never reaches the store
    first, second, declined, again, failed = results
    assert isinstance(first, Charge) and isinstance(second, Charge)
    assert isinstance(declined, PaymentDeclined)
    assert isinstance(failed, PaymentUnavailable)
    assert again == first  # the same key in the same turn: the same charge, made once
    assert gateway.stats() == {"charged": 2, "refunded": 0}
    # A decline is remembered like a success: asking again declines again.
    with pytest.raises(PaymentDeclined):
        await charge(gateway, "o3")
    gateway.close()


async def test_another_process_sees_the_charges_and_never_charges_twice(
        tmp_path: Path) -> None:
    path = tmp_path / "gateway.sqlite"
    one, other = SimulatedGateway(path), SimulatedGateway(path)  # two workers' connections
    made = await asyncio.gather(*(charge(one, f"o{i}") for i in range(20)))
    again = await asyncio.gather(*(charge(other, f"o{i}") for i in range(20)))
    assert again == made
    assert other.stats() == {"charged": 20, "refunded": 0}
    one.close()
    other.close()


async def test_a_caller_that_gives_up_still_finds_its_charge_on_retry(tmp_path: Path) -> None:
    gateway = SimulatedGateway(tmp_path / "gateway.sqlite")
    task = asyncio.create_task(charge(gateway, "o1"))
    await asyncio.sleep(0)  # the charge is asked for: the write is due at the turn's end
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gateway.stats() == {"charged": 1, "refunded": 0}  # as a lost network reply
    retried = await charge(gateway, "o1")
    assert gateway.stats() == {"charged": 1, "refunded": 0}
    assert await gateway.find_charge("o1") == retried
    gateway.close()


async def test_a_locked_store_is_a_transient_failure_for_the_whole_turn(
        tmp_path: Path) -> None:
    path = tmp_path / "gateway.sqlite"
    gateway = SimulatedGateway(path)
    gateway._db.execute("PRAGMA busy_timeout = 50")
    blocker = SimulatedGateway(path)
    blocker._db.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    results = await asyncio.gather(charge(gateway, "o1"), charge(gateway, "o2"),
                                   return_exceptions=True)
    assert all(isinstance(r, PaymentUnavailable) for r in results)  # the queue redelivers
    blocker._db.execute("ROLLBACK")
    assert isinstance(await charge(gateway, "o1"), Charge)
    assert gateway.stats() == {"charged": 1, "refunded": 0}
    gateway.close()
    blocker.close()
