"""Secrets the embedded default generates once and keeps in its data directory, private to its user."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def private_directory(path: Path) -> None:
    """Create `path` readable by this user only (mode 0700) unless it exists: the data directory holds
    the secrets, the database and clients' e-mails."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def persistent_secret(path: Path, prefix: str = "") -> str:
    """A random secret kept in `path`: created once (race-free across workers), read ever after, so
    restarts and every worker agree on it."""
    private_directory(path.parent)
    if not path.exists():
        # Write a private temporary file, then link it into place: the link either creates `path`
        # whole or fails because another worker won, so no reader ever sees a half-written secret.
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(prefix + secrets.token_urlsafe(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
