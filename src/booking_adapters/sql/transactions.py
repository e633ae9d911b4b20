"""How a write runs on each database, and how its conflicts become domain errors.

PostgreSQL: a READ COMMITTED transaction; the exclusion constraint rejects an overlapping live
booking (SQLSTATE 23P01). Inserts racing for one slot can also deadlock on the constraint's index
(40P01, reported after PostgreSQL's deadlock_timeout): the victim is retried a bounded number of
times, and then sees the winner as an ordinary exclusion violation.

SQLite: one writer at a time per file (`BEGIN IMMEDIATE`, waiting up to busy_timeout), in WAL mode
so readers are not blocked; triggers reject an overlapping live booking with RAISE(ABORT).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from enum import Enum, auto
from typing import Any, TypeVar

import psycopg
from attrs import define
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from booking_adapters.sql.driver import DriverStatement
from booking_core import SlotUnavailable, StorageUnavailable

T = TypeVar("T")

SQLITE_OVERLAP = "booking_overlap"  # the message the SQLite triggers raise
IDEMPOTENCY_CONSTRAINT = "uq_bookings_practitioner_id_idempotency_key"
UNREACHABLE_MESSAGE = "The booking database is not reachable right now. Please try again in a moment."
_DEADLOCK_ATTEMPTS = 4


class _Conflict(Enum):
    SLOT_TAKEN = auto()
    RETRY = auto()


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


def _constraint_name(error: DBAPIError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


def _classify(error: DBAPIError) -> _Conflict | None:
    """What a database error means for a booking write, or None if it is no conflict."""
    state = _sqlstate(error)
    if state == "23P01":  # exclusion_violation: an overlapping live booking exists
        return _Conflict.SLOT_TAKEN
    if state == "23505" and _constraint_name(error) == IDEMPOTENCY_CONSTRAINT:
        # A concurrent twin with the same Idempotency-Key won; the service replays it.
        return _Conflict.SLOT_TAKEN
    if state in ("40P01", "40001"):  # deadlock_detected, serialization_failure
        return _Conflict.RETRY
    message = str(error.orig)
    if SQLITE_OVERLAP in message or "bookings.idempotency_key" in message:
        return _Conflict.SLOT_TAKEN
    return None


def _unreachable(error: Exception) -> bool:
    """A lost or refused connection (server restarting, pool exhausted), not a fault of the query."""
    if isinstance(error, PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and (
        error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError))
    )


@asynccontextmanager
async def _reachable() -> AsyncIterator[None]:
    """Turn an unreachable database into the core's StorageUnavailable (the web answers 503)."""
    try:
        yield
    except (DBAPIError, PoolTimeout) as error:
        if _unreachable(error) and _classify_safe(error) is None:
            raise StorageUnavailable(UNREACHABLE_MESSAGE) from error
        raise


def _classify_safe(error: Exception) -> _Conflict | None:
    return _classify(error) if isinstance(error, DBAPIError) else None


@define
class Transactions:
    """Runs writes in one transaction each, translating conflicts."""

    engine: AsyncEngine  # for transactions
    # For single statements (reads, `write_statement`, the driver's), in autocommit: on PostgreSQL
    # an engine of its own whose connections stay so (`database.open_database`), which spares each
    # statement BEGIN and COMMIT round trips and the switch of a pooled connection into autocommit
    # and back (~0.2 ms of CPU a statement, bench.store_cpu); on SQLite `engine` itself (its driver runs in
    # autocommit, database.py).
    _reader: AsyncEngine
    deadlocks: int = 0  # retried deadlocks and serialization failures, for metrics and benchmarks

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as connection:
            if self.is_sqlite:
                # The driver runs in autocommit mode (see database.py); take the write lock up front
                # so that two writers never both read and then collide on the upgrade to writing.
                await connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                await connection.rollback()
                raise
            await connection.commit()

    async def write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `work` in a write transaction; an overlapping live booking raises SlotUnavailable."""
        return await self._translating(self._transaction, work)

    async def _translating(
        self,
        connect: Callable[[], AbstractAsyncContextManager[AsyncConnection]],
        work: Callable[[AsyncConnection], Awaitable[T]],
    ) -> T:
        """Run `work` on a connection from `connect`: conflicts become SlotUnavailable, deadlock and
        serialization victims are retried a bounded number of times."""
        for attempt in range(1, _DEADLOCK_ATTEMPTS + 1):
            try:
                async with _reachable(), connect() as connection:
                    return await work(connection)
            except DBAPIError as error:
                conflict = _classify(error)
                if conflict is _Conflict.SLOT_TAKEN:
                    raise SlotUnavailable() from None
                if conflict is _Conflict.RETRY:
                    self.deadlocks += 1
                    if attempt < _DEADLOCK_ATTEMPTS:
                        continue
                    # Each deadlock had a winner that took this slot or one overlapping it.
                    raise SlotUnavailable() from None
                raise
        raise AssertionError("unreachable")  # the loop returns or raises

    @property
    def single_statement_writes(self) -> bool:
        """Whether `write_statement` runs without a transaction of its own (PostgreSQL)."""
        return not self.is_sqlite

    async def write_statement(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `work`, which makes exactly one statement, as a write: on PostgreSQL in autocommit, the
        statement being its own transaction (it spares BEGIN and COMMIT, two of its three round
        trips); conflicts translate as in `write`. On SQLite, `write`."""
        if not self.single_statement_writes:
            return await self.write(work)
        return await self._translating(self._reader.connect, work)

    async def driver_statement(
        self, statement: DriverStatement, parameters: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """PostgreSQL, `single_statement_writes`: run one statement on the pooled psycopg connection
        itself, in autocommit, and return its first row. Skips
        SQLAlchemy's execution layer (~0.5 ms of CPU a statement); errors are translated into
        SQLAlchemy's, so that `write_statement` classifies them as usual."""

        async def run(connection: AsyncConnection) -> tuple[Any, ...] | None:
            cursor = await self._on_driver(connection, statement, parameters)
            return await cursor.fetchone()

        return await self.write_statement(run)

    async def driver_query(
        self, statement: DriverStatement, parameters: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """PostgreSQL: a read as `driver_statement` runs a write (autocommit, no SQLAlchemy
        execution layer); every row."""
        async with self.read() as connection:
            cursor = await self._on_driver(connection, statement, parameters)
            return await cursor.fetchall()

    async def _on_driver(
        self, connection: AsyncConnection, statement: DriverStatement, parameters: Mapping[str, Any]
    ) -> psycopg.AsyncRawCursor[Any]:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None  # a checked-out connection
        try:
            cursor: psycopg.AsyncRawCursor[Any] = psycopg.AsyncRawCursor(driver)
            return await cursor.execute(statement.sql, statement.parameters(parameters))
        except psycopg.Error as error:
            lost = driver.closed
            if lost:
                await connection.invalidate(error)
            raise DBAPIError.instance(
                statement.sql,
                dict(parameters),
                error,
                psycopg.Error,
                hide_parameters=True,
                connection_invalidated=lost,
                dialect=self.engine.dialect,
            ) from error

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with _reachable(), self._reader.connect() as connection:
            yield connection
