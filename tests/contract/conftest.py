"""Each port's fixture, parametrised over every adapter of that port: memory, sqlite, postgres.

PostgreSQL comes from BOOKING_TEST_POSTGRES_URL (default: the CI server); each run works in its own
throwaway database. Unreachable: skipped locally with one reason, a failure under CI=true.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from attrs import frozen
from sqlalchemy.engine import make_url

from booking_adapters.memory import (
    MemoryBookingStore,
    MemoryCalendarFeedKeys,
    MemoryCredentialStore,
    MemoryDirectory,
    MemoryReminderLedger,
)
from booking_adapters.sql import Database, open_database, upgrade
from booking_adapters.sql.scratch import check_reachable, scratch_database
from booking_core import (
    BookingStore,
    CalendarFeedKeys,
    ClientDataStore,
    CredentialStore,
    PractitionerDirectory,
    ReminderLedger,
)
from booking_core.testing.contracts import StoreWithOutbox
from booking_core.testing.machine import AdaptersFactory

POSTGRES_ADMIN_URL = os.environ.get("BOOKING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
_TABLES = (
    "bookings, booking_events, outbox_deliveries, outbox_channels, processed_payment_events, practitioners, "
    "practitioner_credentials, time_off, calendar_feeds, reminder_deliveries"
)
ADAPTERS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated database of its own for this test run, dropped at the end."""
    try:
        check_reachable(POSTGRES_ADMIN_URL)
    except psycopg.OperationalError as error:
        shown = make_url(POSTGRES_ADMIN_URL).render_as_string(hide_password=True)
        reason = (
            f"PostgreSQL not reachable at {shown} (BOOKING_TEST_POSTGRES_URL): {' '.join(str(error).split())}"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with scratch_database(POSTGRES_ADMIN_URL) as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test works on a copy (copying beats migrating every time)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "booking.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


async def open_empty(kind: str, request: pytest.FixtureRequest, **options: Any) -> Database:
    """An open database of `kind` ("sqlite" or "postgres") with empty tables."""
    if kind == "sqlite":
        return await open_database(request.getfixturevalue("sqlite_url"), **options)
    return await _emptied(await open_database(request.getfixturevalue("postgres_url"), **options))


async def _emptied(database: Database) -> Database:
    """`database` (PostgreSQL, shared by the run) with its tables emptied."""
    async with database.engine.begin() as connection:
        await connection.exec_driver_sql(f"TRUNCATE {_TABLES} RESTART IDENTITY")
    return database


@frozen
class Opened:
    """One adapter's store, directory, client data and reminder ledger over the same (empty) data."""

    store: StoreWithOutbox
    directory: PractitionerDirectory
    client_data: ClientDataStore
    reminders: ReminderLedger


@pytest.fixture(params=ADAPTERS)
async def opened(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[Opened]:
    if request.param == "memory":
        store = MemoryBookingStore()
        yield Opened(store, MemoryDirectory(bookings=store), store, MemoryReminderLedger(store))
        return
    database = await open_empty(request.param, request)
    try:
        yield Opened(database.store, database.directory, database.client_data, database.reminders)
    finally:
        await database.close()


@asynccontextmanager
async def open_memory_adapters() -> AsyncIterator[tuple[BookingStore, PractitionerDirectory]]:
    """For the stateful contract: a fresh memory store and its directory."""
    store = MemoryBookingStore()
    yield store, MemoryDirectory(bookings=store)


@pytest.fixture(params=ADAPTERS[1:])
def open_sql_adapters(request: pytest.FixtureRequest, tmp_path: Path) -> AdaptersFactory:
    """For the stateful contract: opens a fresh (store, directory) pair of one database per example,
    in the machine's own event loop (an SQLite file copied from the template each time; PostgreSQL
    emptied)."""
    kind = request.param
    template = request.getfixturevalue("sqlite_template") if kind == "sqlite" else None
    shared = request.getfixturevalue("postgres_url") if kind == "postgres" else ""
    copies = itertools.count()

    @asynccontextmanager
    async def open_sql() -> AsyncIterator[tuple[BookingStore, PractitionerDirectory]]:
        if template is not None:
            path = tmp_path / f"machine-{next(copies)}.db"
            shutil.copyfile(template, path)
            database = await open_database(f"sqlite:///{path}")
        else:
            database = await _emptied(await open_database(shared))
        try:
            yield database.store, database.directory
        finally:
            await database.close()

    return open_sql


@pytest.fixture
def adapters(opened: Opened) -> tuple[StoreWithOutbox, PractitionerDirectory]:
    """(store, directory) of one adapter, empty."""
    return opened.store, opened.directory


@pytest.fixture
def client_stores(opened: Opened) -> tuple[StoreWithOutbox, ClientDataStore]:
    """(store, client data) of one adapter over the same data, empty."""
    return opened.store, opened.client_data


@pytest.fixture
def client_reminders(opened: Opened) -> tuple[StoreWithOutbox, ClientDataStore, ReminderLedger]:
    """(store, client data, reminder ledger) of one adapter over the same data, empty."""
    return opened.store, opened.client_data, opened.reminders


@pytest.fixture
def store(adapters: tuple[StoreWithOutbox, PractitionerDirectory]) -> StoreWithOutbox:
    return adapters[0]


@pytest.fixture
def directory(adapters: tuple[StoreWithOutbox, PractitionerDirectory]) -> PractitionerDirectory:
    return adapters[1]


@pytest.fixture(params=ADAPTERS)
async def credentials(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[CredentialStore]:
    """A CredentialStore of one adapter, empty."""
    if request.param == "memory":
        yield MemoryCredentialStore()
        return
    database = await open_empty(request.param, request)
    try:
        yield database.credentials
    finally:
        await database.close()


@pytest.fixture(params=ADAPTERS)
async def feed_keys(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[CalendarFeedKeys]:
    if request.param == "memory":
        yield MemoryCalendarFeedKeys()
        return
    database = await open_empty(request.param, request)
    try:
        yield database.calendar_feeds
    finally:
        await database.close()
