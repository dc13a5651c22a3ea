"""The ticket-signing key: from TICKET_SIGNING_KEY (in Azure a Key Vault reference), or
locally a key file kept under the data dir, made once, so codes stay valid across restarts."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from shared.settings import Settings
from shared.ticket_codes import KEY_BYTES

KEY_FILE = "ticket-signing.key"


def _decode(text: str) -> bytes:
    """A key written base64url (or standard base64), at least 32 bytes. Strict: anything
    else (an unresolved Key Vault reference, say) is refused, never read as key bytes."""
    text = text.strip().replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("TICKET_SIGNING_KEY: not base64") from exc
    if len(key) < KEY_BYTES:
        raise ValueError(f"TICKET_SIGNING_KEY: at least {KEY_BYTES} bytes (base64) required")
    return key


def _key_file(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()
        try:
            # O_EXCL: of two processes starting together, one writes and both read its key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(fresh + "\n")
    return _decode(path.read_text())


def ticket_key(settings: Settings) -> bytes:
    if settings.ticket_signing_key:
        return _decode(settings.ticket_signing_key)
    return _key_file(settings.data_dir / KEY_FILE)
