"""The garbage collector, tuned for serving: a process freezes what it built at startup and
collects young objects less often.

CPython's cyclic collector runs a young-generation pass every 700 net allocations and from
time to time walks every tracked object the process holds, most of which (modules, the
framework's routes and models, SQLAlchemy's tables) live as long as the process. During an
on-sale that was ~17 % of each API worker's CPU (``gc.callbacks`` timing, bench/buyers.py;
docs/architecture.md §8). ``gc.freeze()`` moves everything alive at startup out of the
collector's sight, and a larger first threshold lets the short-lived objects of a request
(which reference counting frees on the spot) come and go without a pass. Cycles are still
collected, only in fewer, larger passes.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000  # net allocations between young passes (CPython's default: 700)
OLDER_THRESHOLDS = (50, 100)  # young passes per middle pass, middle passes per full one


def tune_for_serving() -> None:
    """Call once the process has imported and built what it serves with."""
    gc.collect()  # what startup left as garbage goes now, not into the frozen set
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
