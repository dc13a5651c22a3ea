"""``python -m shared.local.mailer``: the email sender in a process of its own, at a lower CPU
priority, when ``make run`` serves from several worker processes.

The sender (the function app's ``send_emails`` timer in Azure, where it runs apart from the
HTTP instances' requests) renders each confirmation's QR codes and PDF: during an on-sale
that was about a sixth of every API worker's CPU (docs/architecture.md §8). Here it has a
process of its own, niced by the host (``workers.MAILER_NICE``), so on a machine the sale
saturates confirmations come first and the emails follow as CPU frees up; idle, it sends
within ``MAIL_INTERVAL_SECONDS`` as before. Claims are leased in the outbox, so a sender that
dies mid-email loses nothing: the host starts it again and the lease expires into a retry.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from shared import gc_tuning
from shared.local.stack import send_emails_until
from shared.local.workers import child_main
from shared.runtime import build_runtime
from shared.settings import Settings

log = logging.getLogger(__name__)


async def serve_mailer(settings: Settings) -> None:
    runtime = build_runtime(settings)
    gc_tuning.tune_for_serving()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.warning("mailer (pid %d, nice %d): sending the email outbox", os.getpid(),
                os.nice(0))
    try:
        await send_emails_until(runtime, stop)
    finally:
        await runtime.close()


def main() -> int:
    return child_main(serve_mailer)


if __name__ == "__main__":
    sys.exit(main())
