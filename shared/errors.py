"""Domain errors. Services raise them; the HTTP layer turns each into problem+json.

``code`` becomes the problem ``type`` (``/problems/<code>``); ``field`` names the offending
input where there is one.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str = "", *, field: str | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.field = field


class InvalidInput(DomainError):
    status = 422
    code = "invalid-input"
    title = "Invalid input"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class EditConflict(Conflict):
    code = "edit-conflict"
    title = "Changed by someone else"


class EmailTaken(Conflict):
    code = "email-taken"
    title = "Email already registered"


class SoldOut(Conflict):
    code = "sold-out"
    title = "Sold out"


class TicketsAvailable(Conflict):
    code = "tickets-available"  # the waiting list is for sold-out types: buy them instead


class NotOnSale(Conflict):
    code = "not-on-sale"
    title = "Event is not on sale"


class HoldExpired(Conflict):
    code = "hold-expired"
    title = "Hold expired"


class HoldNotActive(Conflict):
    code = "hold-not-active"
    title = "Hold is no longer active"


class PaymentInProgress(Conflict):
    code = "payment-in-progress"
    title = "Payment in progress"


class PerUserLimit(DomainError):
    status = 403
    code = "per-user-limit"
    title = "Per-user ticket limit reached"


class QueueRequired(DomainError):
    """A hold for an event whose waiting room is on, without a valid admission token."""

    status = 403
    code = "queue-required"
    title = "Queue required"


class TooManyRequests(DomainError):
    status = 429
    code = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str = "", *, retry_after_ms: int, field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.retry_after_s = max(1, -(-retry_after_ms // 1000))


class LoginLocked(TooManyRequests):
    code = "login-locked"
    title = "Too many failed logins"


class DependencyUnavailable(DomainError):
    status = 503
    code = "dependency-unavailable"
    title = "A dependency is unavailable"


# Raised inside the purchase path; never reach HTTP.


class PaymentDeclined(Exception):
    """The gateway refused the charge for good (card declined)."""


class PaymentUnavailable(Exception):
    """The gateway failed transiently; the message should be retried."""


class LedgerSoldOut(Exception):
    """The ledger's capacity guard refused the sale."""


class StoreUnavailable(Exception):
    """The live inventory store (Redis) cannot be reached, or its breaker is open: callers
    take the degraded path (SQL) or skip what only Redis can do."""
class LedgerBatchRefused(Exception):
    """The ledger refused a batch of sales as a whole (a capacity guard, or an order that
    already exists); nothing of the batch was written. Settle its orders one by one."""
