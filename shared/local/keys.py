"""Keys the local host keeps under its data directory, made once and kept across restarts.

In Azure such keys come from Key Vault references; locally every worker process (and the
next run) must agree on them, so they live in a file only the owner can read.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def local_key(data_dir: Path, name: str) -> str:
    """The key in ``data_dir/name``, created (random, mode 0600) when missing."""
    path = data_dir / name
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:  # first run: this process made the file, so it writes it
        f.write(secrets.token_urlsafe(32))
    return path.read_text().strip()
