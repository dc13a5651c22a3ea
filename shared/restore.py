"""``python -m shared.restore``: rebuild Redis after it lost its data (see
shared/services/restore.py for what comes back from where, and docs/operations.md for when
to run it). Prints what it restored and what it could not; exits 1 if it could not run.

``--reload`` rebuilds every event's availability, not only the missing ones: after the
ledger was restored to an earlier point in time. Locally, with REDIS_URL unset, it starts
the local host's redis-server on its data directory (as ``make run`` does), restores into it
and stops it again, so the host finds the rebuilt data when it starts. Stop the host (or, in
Azure, the payment consumers) first.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from shared.local.redis_server import RedisServer
from shared.ports import ChargeListing, QueuedPayments
from shared.runtime import Runtime, build_runtime
from shared.services.restore import RestoreReport, RestoreService
from shared.settings import Settings, from_env_or_exit


def restore_service(rt: Runtime) -> RestoreService:
    if not isinstance(rt.bus, QueuedPayments):
        raise TypeError(f"{type(rt.bus).__name__} cannot list its queued messages")
    if not isinstance(rt.gateway, ChargeListing):
        raise TypeError(f"{type(rt.gateway).__name__} cannot list its charges")
    return RestoreService(rt.store, rt.ledger, rt.inventory, rt.finalizer, rt.bus, rt.gateway,
                          rt.gateway, rt.catalog_store, rt.settings, rt.clock)


async def restore(settings: Settings, *, reload: bool = False) -> RestoreReport:
    rt = build_runtime(settings)
    try:
        await rt.migrate()
        return await restore_service(rt).run(reload=reload)
    finally:
        await rt.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.restore", description=__doc__)
    parser.add_argument("--reload", action="store_true",
                        help="rebuild every event's availability from the ledger, also where "
                             "Redis still has one (after a point-in-time restore of the ledger)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = from_env_or_exit()
    redis: RedisServer | None = None
    if not settings.redis_url:
        redis = RedisServer(settings.data_dir / "redis")
        try:
            settings = settings.with_(redis_url=redis.start())
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
    try:
        report = asyncio.run(restore(settings, reload=args.reload))
    except Exception as exc:
        logging.exception("restore failed")
        print(f"restore failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if redis is not None:
            redis.stop()
    print("\n".join(report.lines()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
