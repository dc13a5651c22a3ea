"""Value types and validators of the settings (``shared.settings``): rates written
``limit/seconds``, URLs of given schemes, host names, connection strings, CORS origins.

Each validator keeps the text as given and raises ``ValueError`` with a short reason, which
the settings' error message prints before what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, AnyUrl, BeforeValidator, TypeAdapter, ValidationError


@dataclass(frozen=True)
class Rate:
    """``limit`` requests per ``window_ms``; written ``"limit/seconds"`` in settings."""

    limit: int
    window_ms: int

    ALLOWED = "limit/seconds, both positive, e.g. 30/60"

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_ms < 1:
            raise ValueError("both parts must be positive")

    def __str__(self) -> str:
        return f"{self.limit}/{self.window_ms / 1000:g}"

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*", text)
        if match is None:
            raise ValueError("not of the form limit/seconds")
        return cls(int(match[1]), round(float(match[2]) * 1000))


def _rate(value: object) -> object:
    return Rate.parse(value) if isinstance(value, str) else value


def _origins(value: object) -> object:
    """CORS_ORIGINS is comma-separated; blanks between commas are ignored."""
    if isinstance(value, str):
        return tuple(o.strip() for o in value.split(",") if o.strip())
    return value


_URL = TypeAdapter(AnyUrl)


def url(*schemes: str, path: bool = True) -> Callable[[str], str]:
    """A validator keeping the text as given when it is a URL with one of ``schemes``."""

    def check(value: str) -> str:
        if not value:
            return value
        try:
            parsed = _URL.validate_python(value)
        except ValidationError:
            raise ValueError("not a URL") from None
        if parsed.scheme not in schemes:
            raise ValueError(f"scheme {parsed.scheme!r} is not one of {', '.join(schemes)}")
        if not path and parsed.path not in (None, "", "/"):
            raise ValueError(f"an origin has no path: {value}")
        return value

    return check


def sqlalchemy_url(value: str) -> str:
    if value:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            parsed = make_url(value)
        except ArgumentError:
            raise ValueError("not a SQLAlchemy URL") from None
        try:
            parsed.get_dialect()
        except (NoSuchModuleError, ImportError):
            raise ValueError(f"no installed dialect or driver {parsed.drivername!r}") from None
    return value


_HOSTNAME = r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"  # noqa: E501


def hostname(value: str) -> str:
    if value and not re.fullmatch(_HOSTNAME, value):
        raise ValueError("not a host name")
    return value


def servicebus_connection(value: str) -> str:
    if value:
        parts = dict(p.split("=", 1) for p in value.split(";") if "=" in p)
        if not parts.get("Endpoint", "").startswith("sb://"):
            raise ValueError("no Endpoint=sb://... in it")
    return value


def key_values(*required: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value:
            keys = {p.split("=", 1)[0] for p in value.split(";") if "=" in p}
            if not set(required) <= keys:
                raise ValueError(f"no {', '.join(required)} in it")
        return value

    return check


def email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError("not an email address")
    return value


def ncrontab(value: str) -> str:
    if value and len(value.split()) != 6:
        raise ValueError(f"{len(value.split())} fields, not six")
    return value


# Field types that carry their own parsing and what-is-allowed text.
RateSetting = Annotated[Rate, BeforeValidator(_rate)]
Origins = Annotated[tuple[str, ...], BeforeValidator(_origins),
                    AfterValidator(lambda t: tuple(url("http", "https", path=False)(o)
                                                   if o != "*" else o for o in t))]
