"""The event loop the local host runs on: uvloop when it is installed (it is, with the
runtime requirements), else asyncio's own. Much of the API's work per request is event-loop
and HTTP protocol work; uvloop, with uvicorn's httptools parser (picked automatically when
installed), did it fast enough for about 10% more orders per second in bench/buyers.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # a plain asyncio loop works the same, only slower
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the fastest loop available."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
