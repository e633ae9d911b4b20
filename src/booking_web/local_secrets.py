"""Secrets the embedded default generates once and keeps in its data directory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def persistent_secret(path: Path, prefix: str = "") -> str:
    """A random secret kept in `path`: created once (race-free across workers), read ever after, so
    restarts and every worker agree on it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(prefix + secrets.token_urlsafe(32))
    return path.read_text().strip()
