"""One database: its engine and the adapters built on it, opened and closed together."""

from __future__ import annotations

import select
from typing import Any

from attrs import frozen
from sqlalchemy import event, text
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, PoolProxiedConnection

from booking_adapters.directory_cache import CachedDirectory
from booking_adapters.extras import missing_extra
from booking_adapters.sql.calendar_feeds import SqlCalendarFeedKeys
from booking_adapters.sql.client_data import SqlClientData
from booking_adapters.sql.credentials import SqlCredentialStore
from booking_adapters.sql.directory import CACHE_SECONDS, SqlDirectory
from booking_adapters.sql.migrate import SchemaBehind, current_revisions, head_revisions, run_migrations
from booking_adapters.sql.reminders import SqlReminderLedger
from booking_adapters.sql.sqlite import configure_sqlite
from booking_adapters.sql.store import SqlBookingStore
from booking_adapters.sql.transactions import Transactions
from booking_adapters.sql.url import database_url, is_sqlite_memory

POOL_SIZE = 20  # the load bench's 16 concurrent requests plus the outbox worker and housekeeping
POOL_OVERFLOW = 10  # beyond that, connections opened for a burst and closed at check-in


def _socket_silent(dbapi_connection: Any) -> bool:
    """False if an idle pooled PostgreSQL connection's socket has something to read. The server
    writes to an idle session only when it goes away (a shutdown's FATAL message, then EOF; a
    crashed server's socket reads EOF), so a readable socket means a dead connection. Checked
    without a round trip, unlike SQLAlchemy's pre-ping (a SELECT per checkout, ~0.8 ms of CPU
    here). What this cannot tell (no socket) counts as alive: the query then fails as before."""
    connection = dbapi_connection.driver_connection
    if connection is None:
        return True
    if connection.closed:
        return False
    try:
        poller = select.poll()
        poller.register(connection.pgconn.socket, select.POLLIN)
        return not poller.poll(0)
    except (OSError, ValueError):
        return True


def _check_on_checkout(
    dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
) -> None:
    if not _socket_silent(dbapi_connection):
        # After a restart every older connection is dead too: the pool replaces them all.
        raise InvalidatePoolError("the database closed this pooled connection")


@frozen
class Database:
    engine: AsyncEngine  # transactions (and on SQLite everything)
    reader: AsyncEngine  # single statements in autocommit (PostgreSQL; on SQLite `engine`)
    store: SqlBookingStore  # BookingStore and Outbox
    directory: CachedDirectory  # over a SqlDirectory
    credentials: SqlCredentialStore
    calendar_feeds: SqlCalendarFeedKeys
    reminders: SqlReminderLedger
    client_data: SqlClientData  # ClientDataStore

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
        if self.reader is not self.engine:
            await self.reader.dispose()


async def open_database(
    url: str,
    *,
    pool_size: int = POOL_SIZE,
    practitioner_cache_seconds: float = CACHE_SECONDS,
) -> Database:
    """Connect to `url` (see `database_url` for the forms). Opening checks nothing: call `ping` and
    `require_current_schema`. An in-memory SQLite database is created and migrated here.

    `pool_size` connections stay open once concurrent use has asked for them (on PostgreSQL in each
    of two pools, transactions and single statements; a pooled connection is checked for a closed
    socket when taken out, not pinged). `practitioner_cache_seconds`: how long a process serves
    practitioners from memory (0: never).
    """
    options: dict[str, Any] = {"pool_size": pool_size, "max_overflow": POOL_OVERFLOW}
    if is_sqlite_memory(url):
        # The database lives in one connection: keep exactly that one and hand it out in turn.
        options = {"poolclass": AsyncAdaptedQueuePool, "pool_size": 1, "max_overflow": 0}
    elif database_url(url).startswith("sqlite"):
        options["pool_pre_ping"] = True
    try:
        engine = create_async_engine(database_url(url), **options)
    except ModuleNotFoundError as missing:  # the driver comes with its database's extra
        raise missing_extra(
            missing, __name__, "sqlite" if url.startswith("sqlite") else "postgres"
        ) from missing
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine.sync_engine)
        reader = engine
    else:
        # Its connections are opened in autocommit and stay so: nothing to switch on checkout, nothing
        # to roll back on check-in. Both pools fill only as far as concurrent use asks.
        reader = create_async_engine(
            database_url(url), isolation_level="AUTOCOMMIT", pool_reset_on_return=None, **options
        )
        for pool in (engine.sync_engine.pool, reader.sync_engine.pool):
            event.listen(pool, "checkout", _check_on_checkout)
    transactions = Transactions(engine, reader)
    directory = CachedDirectory(SqlDirectory(transactions), practitioner_cache_seconds)
    database = Database(
        engine,
        reader,
        SqlBookingStore(transactions),
        directory,
        SqlCredentialStore(transactions),
        SqlCalendarFeedKeys(transactions),
        SqlReminderLedger(transactions),
        SqlClientData(transactions),
    )
    if is_sqlite_memory(url):
        await database.migrate()
    return database
