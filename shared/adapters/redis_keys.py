"""Redis key names. Everything of one event shares the ``{event_id}`` hash tag."""

from __future__ import annotations


def event_keys(event_id: str) -> list[str]:
    """The seven keys every event script receives, in the order of ``lua/README.md``."""
    tag = "{" + event_id + "}"
    return [
        f"inv:{tag}",
        f"meta:{tag}",
        f"holds:{tag}",
        f"hexp:{tag}",
        f"hpay:{tag}",
        f"hdone:{tag}",
        f"per_user:{tag}",
    ]


INV, META, HOLDS, HEXP, HPAY, HDONE, PER_USER = range(7)


def rate_key(event_id: str) -> str:
    """hold.lua's eighth key: per-buyer request rate state of the event."""
    return "rate:{" + event_id + "}"


def outbox_key(event_id: str) -> str:
    """checkout.lua's and outbox_due.lua's eighth key: orders whose payment message may not
    be published yet (zset, scored by time)."""
    return "outbox:{" + event_id + "}"


def session_key(token_hash: str) -> str:
    return f"sess:{token_hash}"


def sql_users_key(event_id: str) -> str:
    """sync_sql.lua's eighth key: each buyer's SQL-taken tickets already in per_user."""
    return "sqlusers:{" + event_id + "}"


def refunds_key(event_id: str) -> str:
    """restock.lua's eighth key: ids of the event's refunds already put back on sale."""
    return "refunds:{" + event_id + "}"


def waitlist_key(event_id: str) -> str:
    """The waiting list's hash (entries and counters; hold.lua's ninth key: its gate)."""
    return "wl:{" + event_id + "}"


def waitlist_queue_key(event_id: str) -> str:
    """The waiting list's queue: waiting entry ids in first-come order per ticket type."""
    return "wlq:{" + event_id + "}"


def waitlist_notes_key(event_id: str) -> str:
    """Offered entries whose email is not enqueued yet (zset, scored by offer time)."""
    return "wlnote:{" + event_id + "}"
