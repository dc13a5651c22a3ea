"""A ticket code's QR code, encoded once.

The confirmation email draws each ticket's code twice (the inline PNG and the PDF page),
and encoding is the costly part: segno scores all eight masks to pick the most legible one
(the profile of an on-sale, docs/architecture.md §8). Codes are immutable, so the last few
hundred encodings are kept.
"""

from __future__ import annotations

from functools import lru_cache

import segno


@lru_cache(maxsize=512)
def ticket_qr(code: str) -> segno.QRCode:
    return segno.make_qr(code, error="m")
