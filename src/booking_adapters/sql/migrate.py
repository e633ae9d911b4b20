"""Alembic, configured in code: `upgrade(url)` brings a database to the newest schema."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine
from sqlalchemy.pool import NullPool

from booking_adapters.sql.sqlite import configure_sqlite
from booking_adapters.sql.url import backend_of, is_sqlite_memory, migration_url

UPGRADE_COMMAND = "booking db upgrade"


class SchemaBehind(Exception):
    """The database's schema is older than this code; the service must not start on it."""

    def __init__(self, current: tuple[str, ...], head: tuple[str, ...]) -> None:
        super().__init__(current, head)
        self.current, self.head = current, head

    def __str__(self) -> str:
        current = ", ".join(self.current) or "no schema"
        return (
            f"The database schema is behind ({current}; this version needs {', '.join(self.head)}). "
            f"Run `{UPGRADE_COMMAND}` with the same DATABASE_URL, then start again."
        )


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", "booking_adapters.sql:migrations")
    return config


def head_revisions() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(_config()).get_heads())


def current_revisions(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def run_migrations(connection: Connection, revision: str = "head") -> None:
    """Apply pending migrations on `connection`, inside its transaction (the caller commits)."""
    config = _config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to the newest schema (what `booking db upgrade` runs), or to an
    older `revision` (for tests of what a migration does to rows stored before it).

    Synchronous on purpose: it runs before the service starts, or in a thread from async code.
    An in-memory SQLite database lives only inside its engine; `open_database` migrates those.
    """
    if is_sqlite_memory(url):
        raise ValueError("an in-memory SQLite database is migrated by open_database, not upgrade()")
    engine = create_engine(migration_url(url), poolclass=NullPool)
    if backend_of(url) == "sqlite":
        configure_sqlite(engine)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")  # one migrator at a time, all or nothing
            run_migrations(connection, revision)
            connection.commit()
    finally:
        engine.dispose()
