"""One database: its engine and the adapters built on it, opened and closed together."""

from __future__ import annotations

from typing import Any

from attrs import frozen
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from booking_adapters.sql.directory import CACHE_SECONDS, SqlDirectory
from booking_adapters.sql.migrate import SchemaBehind, current_revisions, head_revisions, run_migrations
from booking_adapters.sql.sqlite import configure_sqlite
from booking_adapters.sql.store import SqlBookingStore
from booking_adapters.sql.transactions import Transactions
from booking_adapters.sql.url import database_url, is_sqlite_memory


@frozen
class Database:
    engine: AsyncEngine
    store: SqlBookingStore  # BookingStore and Outbox
    directory: SqlDirectory

    async def ping(self) -> None:
        """Raise if the database does not answer."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def schema_is_current(self) -> bool:
        async with self.engine.connect() as connection:
            current = await connection.run_sync(current_revisions)
        return set(current) == set(head_revisions())

    async def require_current_schema(self) -> None:
        """Raise SchemaBehind (naming `booking db upgrade`) unless the schema is the newest."""
        async with self.engine.connect() as connection:
            current = await connection.run_sync(current_revisions)
        head = head_revisions()
        if set(current) != set(head):
            raise SchemaBehind(current, head)

    async def migrate(self) -> None:
        """Apply pending migrations through this engine (the embedded default may do this itself)."""
        async with self.engine.connect() as connection:
            if self.engine.dialect.name == "sqlite":
                await connection.exec_driver_sql("BEGIN IMMEDIATE")
            await connection.run_sync(run_migrations)
            await connection.commit()

    async def close(self) -> None:
        await self.engine.dispose()


async def open_database(
    url: str,
    *,
    pool_size: int = 10,
    lock_practitioner: bool = False,
    practitioner_cache_seconds: float = CACHE_SECONDS,
) -> Database:
    """Connect to `url` (see `database_url` for the forms). Opening checks nothing: call `ping` and
    `require_current_schema`. An in-memory SQLite database is created and migrated here.

    `practitioner_cache_seconds`: how long a process serves practitioners from memory (0: never).
    `lock_practitioner` queues PostgreSQL writes of one practitioner on an advisory lock instead of
    letting racing inserts deadlock and retry; docs/performance.md has the measurements.
    """
    options: dict[str, Any] = {"pool_size": pool_size, "max_overflow": pool_size, "pool_pre_ping": True}
    if is_sqlite_memory(url):
        # The database lives in one connection: keep exactly that one and hand it out in turn.
        options = {"poolclass": AsyncAdaptedQueuePool, "pool_size": 1, "max_overflow": 0}
    engine = create_async_engine(database_url(url), **options)
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine.sync_engine)
    transactions = Transactions(engine, lock_practitioner=lock_practitioner)
    directory = SqlDirectory(transactions, cache_seconds=practitioner_cache_seconds)
    database = Database(engine, SqlBookingStore(transactions), directory)
    if is_sqlite_memory(url):
        await database.migrate()
    return database
