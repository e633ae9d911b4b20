"""SQLite connection settings: WAL so readers never wait for the writer, a busy timeout so writers
queue instead of failing, and the driver's own transaction handling off (we say BEGIN ourselves)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

BUSY_TIMEOUT_MS = 30_000


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Python's sqlite3 would open transactions lazily (deferred) on its own; with isolation_level
    # None it leaves that to us, and writes say BEGIN IMMEDIATE (see transactions.py).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        f"busy_timeout={BUSY_TIMEOUT_MS}",
        "synchronous=NORMAL",  # with WAL: durable at checkpoints, never corrupt
        "foreign_keys=ON",
        # what an update or delete frees is zeroed, not left in the file: an erased client's details
        # must not survive in free space (sql/client_data.py)
        "secure_delete=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def configure_sqlite(engine: Engine) -> None:
    """Apply the settings to every connection `engine` opens (pass `async_engine.sync_engine`)."""
    event.listen(engine, "connect", _on_connect)
