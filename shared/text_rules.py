"""What text the shop accepts: the one canonical form of an email address (so look-alikes
of an account's address are that account), and the characters refused in names and other
texts people read (controls such as NUL, and bidirectional overrides that reorder what is
shown)."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from shared.errors import InvalidInput

# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they make shown text
# differ from stored text ("Trojan Source"). The implicit marks (LRM, RLM) are harmless.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Controls allowed in multi-line texts (descriptions).
LINE_BREAKS = frozenset("\n\r\t")


def _without_format_characters(text: str) -> str:
    """Drop Unicode format characters (zero-width space/joiners, BOM, bidi controls, soft
    hyphen): invisible, so they must not tell two addresses apart."""
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def canonical_email(raw: str) -> str:
    """The canonical form of an email address, used by every path that stores or looks up
    one (register, login, the admin bootstrap): format characters removed, NFKC (fullwidth
    and compatibility forms become their plain letters, NFD becomes NFC), outer whitespace
    stripped, lower-cased. Control characters (NUL, ...) and surrogates are refused."""
    text = unicodedata.normalize("NFKC", _without_format_characters(raw)).strip()
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
        raise InvalidInput("must not contain control characters", field="email")
    # lower() can produce decomposed sequences (e.g. "İ"); normalize once more so that the
    # canonical form is a fixed point.
    return unicodedata.normalize("NFKC", text.lower())


def valid_email(raw: str) -> str:
    """``canonical_email``, and refused unless it is a syntactically valid address that
    can receive mail on the public internet (email-validator; no DNS lookup)."""
    email = canonical_email(raw)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"not a valid email address ({exc})", field="email") from exc
    return email


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why a name or text is refused, or None."""
    for c in text:
        if c in BIDI_CONTROLS:
            return "must not contain bidirectional override or isolate characters"
        category = unicodedata.category(c)
        if category == "Cs" or (category == "Cc" and not (multiline and c in LINE_BREAKS)):
            return "must not contain control characters"
    return None
