"""SQL adapters: PostgreSQL (production) and SQLite (the embedded default), one schema, one guarantee:
no two live bookings of a practitioner overlap, enforced by the database itself.

    upgrade(url)                      apply migrations (`booking db upgrade`)
    db = await open_database(url)     db.store (BookingStore + Outbox), db.directory, db.ping(), ...
    ChangeFeed(conninfo, ...)         hear every process's changes (PostgreSQL LISTEN)
"""

from booking_adapters.extras import missing_extra

try:
    from booking_adapters.sql.changes import ChangeFeed, listening_conninfo
    from booking_adapters.sql.credentials import SqlCredentialStore
    from booking_adapters.sql.database import Database, open_database
    from booking_adapters.sql.directory import SqlDirectory
    from booking_adapters.sql.migrate import UPGRADE_COMMAND, SchemaBehind, head_revisions, upgrade
    from booking_adapters.sql.store import SqlBookingStore
    from booking_adapters.sql.url import database_url
except ModuleNotFoundError as missing:
    raise missing_extra(missing, __name__, "postgres", "sqlite") from missing

__all__ = [
    "UPGRADE_COMMAND",
    "ChangeFeed",
    "Database",
    "SchemaBehind",
    "SqlBookingStore",
    "SqlCredentialStore",
    "SqlDirectory",
    "database_url",
    "head_revisions",
    "listening_conninfo",
    "open_database",
    "upgrade",
]
