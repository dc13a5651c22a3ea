"""The buyers benchmark's bookkeeping: CPU by role adds up to the machine's, the median sale
is the one reported, and the machine's busy time is read from /proc/stat."""

from __future__ import annotations

import time

from bench.buyers import by_role, median_round
from bench.quiet import machine_busy_s, median_item, quiet_machine


def test_by_role_charges_what_no_role_spent_to_outside() -> None:
    before = {"workers": 10.0, "redis": 1.0, "load_generator": 2.0, "machine": 100.0}
    after = {"workers": 12.0, "redis": 1.5, "load_generator": 2.25, "machine": 103.0}
    assert by_role(before, after, 1000) == {"load_generator": 0.25, "outside": 0.25,
                                            "redis": 0.5, "workers": 2.0}


def test_by_role_never_reports_negative_outside() -> None:
    # Per-process ticks and the machine's are sampled a moment apart: never below zero.
    assert by_role({"workers": 0.0, "machine": 0.0}, {"workers": 1.0, "machine": 0.99},
                   100)["outside"] == 0.0


def test_median_round_reports_the_lower_middle_sale_with_every_rate() -> None:
    flows = [{"confirmed_per_s": c, "placed_per_s": c + 1, "oversold": 0, "workers": 2}
             for c in (900.0, 700.0, 800.0, 1000.0)]
    chosen = median_round(flows)
    assert chosen["confirmed_per_s"] == 800.0
    assert [r["confirmed_per_s"] for r in chosen["rounds"]] == [900.0, 700.0, 800.0, 1000.0]


def test_machine_busy_time_grows_while_this_process_works() -> None:
    before = machine_busy_s()
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    assert machine_busy_s() > before


async def test_quiet_machine_starts_once_quiet_and_gives_up_after_its_patience() -> None:
    assert await quiet_machine(cores=float("inf")) >= 0.0  # any machine is under that
    # Never quiet: it measures one second, then goes on and says how busy the machine was.
    assert await quiet_machine(cores=-1.0, patience_s=0.0) >= 0.0


def test_median_item_is_the_lower_middle_one() -> None:
    assert median_item([3, 1, 2], float) == 2
    assert median_item([4, 1, 3, 2], float) == 2
