"""Serving processes tune the garbage collector (``shared/gc_tuning.py``): the startup heap
is frozen, young passes come less often, and cycles made while serving are still collected.
In a child process, so the test session's own collector is left as it is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import gc, weakref
from shared import gc_tuning
gc_tuning.tune_for_serving()
assert gc.get_freeze_count() > 0
assert gc.get_threshold() == (gc_tuning.YOUNG_THRESHOLD, *gc_tuning.OLDER_THRESHOLDS)

class Node:
    pass

a, b = Node(), Node()
a.other, b.other = b, a  # a cycle: reference counting alone never frees it
gone = weakref.ref(a)
del a, b
# Containers that stay alive count toward the young threshold: past it, a pass runs.
kept = [[] for _ in range(gc_tuning.YOUNG_THRESHOLD + 1)]
assert gone() is None, "the cycle outlived the young passes"
print("ok")
"""


def test_the_startup_heap_is_frozen_and_cycles_are_still_collected() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
