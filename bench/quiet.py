"""The machine's CPU as a whole: busy time from /proc/stat (Linux), waiting until the
machine is quiet before a measurement starts, and which of several rounds to report.

On a two-core machine a benchmark shares the cores with whatever else runs: pretix's
database just after its setup, the email sender rendering the last sale's tickets, another
tenant. Each measurement here starts on a quiet machine and reports how busy it was.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

QUIET_CORES = 0.25  # the machine's CPU use, over a second, below which a measurement starts
QUIET_WAIT_S = 300.0  # the longest wait for it, by default
T = TypeVar("T")


def median_item(items: Sequence[T], key: Callable[[T], float]) -> T:
    """The item with the median ``key`` (the lower middle one for an even count): what a
    benchmark reports of several rounds on a machine where one round moves by a fifth."""
    return sorted(items, key=key)[(len(items) - 1) // 2]


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy since boot, all cores together: user,
    nice, system, irq, softirq and steal of /proc/stat's ``cpu`` line (guest time is already
    in user and nice)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


async def quiet_machine(cores: float = QUIET_CORES, patience_s: float = QUIET_WAIT_S) -> float:
    """Wait (at most ``patience_s``) until the machine spends under ``cores`` of CPU over a
    second, the servers already started for the measurement included, and return the last
    second's figure (so a run that could not wait says so).

    Other load does not fall evenly: two API workers need both cores where one leaves the
    second half idle, so it is taken from the two-worker sale first and reads as poor
    scaling; and whichever of two endpoints meets it looks the slower one."""
    deadline = time.monotonic() + patience_s
    while True:
        before, t0 = machine_busy_s(), time.monotonic()
        await asyncio.sleep(1.0)
        busy = (machine_busy_s() - before) / (time.monotonic() - t0)
        if busy < cores or time.monotonic() > deadline:
            return round(busy, 3)
