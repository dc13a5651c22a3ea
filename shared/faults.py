"""Fault injection for crash tests ONLY: ``LEAP_TEST_CRASH_AFTER=<point>`` kills this process
(SIGKILL, as ``kill -9`` would) when the code reaches that named point.

Points: ``checkout-script`` (after ``checkout.lua``, before the payment message is
published). Never set it outside tests; unset, a crash point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "LEAP_TEST_CRASH_AFTER"


def crash_point(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
