"""The SQL adapter's own surface: URL forms, migrations, the schema check, ping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from attrs import evolve
from sqlalchemy import Table, create_engine
from sqlalchemy.pool import NullPool

from booking_adapters.sql import SchemaBehind, database_url, head_revisions, open_database, upgrade
from booking_adapters.sql.rows import booking_row, event_row, practitioner_row
from booking_adapters.sql.scratch import scratch_database
from booking_adapters.sql.tables import booking_events, bookings, metadata, practitioners, reminder_deliveries
from booking_adapters.sql.url import migration_url
from booking_core import Booking, BookingLimits, Money, Service, SlotUnavailable, Trigger
from booking_core.booking_limits import NO_LIMITS
from booking_core.testing.contracts import hold, sample_practitioner, transition
from tests.contract.conftest import POSTGRES_ADMIN_URL, open_empty


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://user@host/db", "postgresql+psycopg://user@host/db"),
        ("postgres://user:secret@host:5433/db", "postgresql+psycopg://user:secret@host:5433/db"),
        ("postgresql+asyncpg://host/db", "postgresql+psycopg://host/db"),
        ("sqlite:///var/booking.db", "sqlite+aiosqlite:///var/booking.db"),
        ("sqlite:////abs/booking.db", "sqlite+aiosqlite:////abs/booking.db"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
    ],
)
def test_database_url_forms(given: str, expected: str) -> None:
    assert database_url(given) == expected


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database 'mysql'"):
        database_url("mysql://host/db")


def test_the_head_revision_is_0015_replaced_checkouts() -> None:
    assert head_revisions() == ("0015_replaced_checkouts",)


@pytest.mark.anyio
async def test_a_database_behind_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    database = await open_database(url)
    try:
        assert not await database.schema_is_current()
        with pytest.raises(SchemaBehind, match="Run `booking db upgrade`"):
            await database.require_current_schema()
        upgrade(url)
        upgrade(url)  # a second run has nothing to do
        assert await database.schema_is_current()
        await database.require_current_schema()
    finally:
        await database.close()


@pytest.mark.anyio
async def test_an_in_memory_database_opens_migrated() -> None:
    database = await open_database("sqlite:///:memory:")
    try:
        await database.ping()
        assert await database.schema_is_current()
    finally:
        await database.close()


@pytest.mark.anyio
async def test_ping_raises_when_the_database_is_unreachable() -> None:
    database = await open_database("postgresql://nobody@127.0.0.1:9/nothing")
    try:
        with pytest.raises(Exception, match=r"127\.0\.0\.1"):
            await database.ping()
    finally:
        await database.close()


def _schema_differences(connection: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    differences: list[Any] = compare_metadata(context, metadata)
    return differences


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_migrations_build_the_schema_tables_py_describes(
    kind: str, request: pytest.FixtureRequest
) -> None:
    database = await open_empty(kind, request)
    try:
        async with database.engine.connect() as connection:
            assert await connection.run_sync(_schema_differences) == []
    finally:
        await database.close()


_BEFORE_EMAIL = "0002_change_notifications"
_BEFORE_SERVICES = "0006_practitioner_removal"
_BEFORE_LIMITS = "0010_calendar_feeds"
_BEFORE_RESCHEDULING = "0012_reminder_deliveries"
_BEFORE_ATTENDANCE = "0013_rescheduling"
_BEFORE_REPLACED_CHECKOUTS = "0014_attendance"


@contextmanager
def _database_at(revision: str, kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database of its own at `revision`."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        upgrade(url, revision)
        yield url
        return
    request.getfixturevalue("postgres_url")  # skips (or fails under CI) when PostgreSQL is unreachable
    with scratch_database(POSTGRES_ADMIN_URL, prefix="booking_migration", revision=revision) as url:
        yield url


def _insert_rows(url: str, *rows: tuple[Table, dict[str, Any]]) -> None:
    engine = create_engine(migration_url(url), poolclass=NullPool)
    try:
        with engine.begin() as connection:
            for table, row in rows:
                connection.execute(table.insert().values(row))
    finally:
        engine.dispose()


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_practitioners_stored_before_0003_gain_an_empty_email(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    practitioner = sample_practitioner()
    row = practitioner_row(practitioner)
    del row["email"], row["services"], row["limits"]  # the columns of revision 0002
    with _database_at(_BEFORE_EMAIL, kind, request, tmp_path) as url:
        _insert_rows(url, (practitioners, row))
        upgrade(url)
        database = await open_database(url)
        try:
            # the offer's one service, and no limits
            expected = evolve(practitioner, email=None, services=(), limits=NO_LIMITS)
            assert await database.directory.get(practitioner.id) == expected
        finally:
            await database.close()


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_rows_stored_before_0007_are_of_the_one_service_session(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A practitioner stored before services offers the one service `session` of their offer's
    length and price; a booking stored then is a booking of it."""
    practitioner = sample_practitioner(services=(), limits=NO_LIMITS)
    practitioner_columns = practitioner_row(practitioner)
    del practitioner_columns["services"], practitioner_columns["limits"]
    booking, _event = hold("b1", 9 * 60)
    booking_columns = booking_row(booking)
    del booking_columns["service_id"], booking_columns["service_name"], booking_columns["reschedule_count"]
    del booking_columns["replaced_checkouts"]
    with _database_at(_BEFORE_SERVICES, kind, request, tmp_path) as url:
        _insert_rows(url, (practitioners, practitioner_columns), (bookings, booking_columns))
        upgrade(url)
        database = await open_database(url)
        try:
            migrated = await database.directory.get(practitioner.id)
            assert migrated == practitioner
            assert migrated.offered_services == (
                Service("session", "Session", timedelta(minutes=50), Money(9000, "EUR")),
            )
            assert await database.store.get("b1") == booking
            assert (booking.service_id, booking.service_name) == ("session", "Session")
        finally:
            await database.close()


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_practitioners_stored_before_0011_have_no_limits(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Neither the practitioner nor a service stored before limits (its JSON has no `limits`) has any."""
    practitioner = sample_practitioner()
    columns = practitioner_row(practitioner)
    del columns["limits"]
    for service in columns["services"]:
        del service["limits"]
    with _database_at(_BEFORE_LIMITS, kind, request, tmp_path) as url:
        _insert_rows(url, (practitioners, columns))
        upgrade(url)
        database = await open_database(url)
        try:
            migrated = await database.directory.get(practitioner.id)
            unlimited = tuple(evolve(s, limits=NO_LIMITS) for s in practitioner.services)
            assert migrated == evolve(practitioner, limits=NO_LIMITS, services=unlimited)
            assert migrated is not None and migrated.limits == BookingLimits()
        finally:
            await database.close()


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_bookings_stored_before_0013_never_moved(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A booking stored before rescheduling moved 0 times; its history has no moves; and after the
    upgrade the database still refuses an overlapping booking (the triggers survived on SQLite)."""
    booking, event = hold("b1", 9 * 60)
    booking_columns = booking_row(booking)
    del booking_columns["reschedule_count"], booking_columns["replaced_checkouts"]
    event_columns = {name: value for name, value in event_row(event).items() if not name.startswith("moved_")}
    with _database_at(_BEFORE_RESCHEDULING, kind, request, tmp_path) as url:
        _insert_rows(url, (bookings, booking_columns), (booking_events, event_columns))
        upgrade(url)
        database = await open_database(url)
        try:
            assert await database.store.get("b1") == booking and booking.reschedule_count == 0
            assert await database.store.history("b1") == [event]
            with pytest.raises(SlotUnavailable):
                await database.store.add_if_free(*hold("b2", 9 * 60 + 30))
        finally:
            await database.close()


def _row_before_0015(booking: Booking) -> dict[str, Any]:
    columns = booking_row(booking)
    del columns["replaced_checkouts"]
    return columns


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_bookings_stored_before_0014_keep_their_guarantees_and_may_be_completed(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """0014 widens the status constraint (on SQLite by editing the table's definition): rows, and
    rows referencing them, stay; the no-overlap trigger still refuses; the new statuses are stored."""
    booking, _event = hold("b1", 9 * 60)
    with _database_at(_BEFORE_ATTENDANCE, kind, request, tmp_path) as url:
        reminder = {
            "booking_id": "b1",
            "slot_start": booking.slot.start,
            "offset_seconds": 86400,
            "channel": "email:client",
            "attempts": 0,
            "last_error": "",
        }
        _insert_rows(
            url,
            (practitioners, practitioner_row(sample_practitioner("pr-a"))),
            (bookings, _row_before_0015(booking)),
            (reminder_deliveries, reminder),  # a row referencing the booking: it must stay valid
        )
        upgrade(url)
        database = await open_database(url)
        try:
            assert await database.store.get("b1") == booking
            overlapping, event = hold("b2", 9 * 60 + 30)
            with pytest.raises(SlotUnavailable):
                await database.store.add_if_free(overlapping, event)
            paid, confirmed = transition(booking, Trigger.PAYMENT_CONFIRMED, booking.slot.start)
            await database.store.save(booking, paid, confirmed)
            completed, done = transition(paid, Trigger.COMPLETED, booking.slot.end)
            await database.store.save(paid, completed, done)
            assert (await database.store.get("b1")) == completed
            assert await database.store.sessions_ended(booking.slot.end) == []
        finally:
            await database.close()


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_bookings_stored_before_0015_replaced_no_checkout(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A booking stored before 0015 had its one checkout; one whose checkout a move replaced since
    keeps the replaced session's id."""
    booking, _event = hold("b1", 9 * 60)
    with _database_at(_BEFORE_REPLACED_CHECKOUTS, kind, request, tmp_path) as url:
        _insert_rows(url, (bookings, _row_before_0015(booking)))
        upgrade(url)
        database = await open_database(url)
        try:
            assert await database.store.get("b1") == booking and booking.replaced_checkouts == ()
            replaced = evolve(booking, version=2, replaced_checkouts=("cs_1", "cs_2"))
            await database.store.save(booking, replaced, None)
            assert await database.store.get("b1") == replaced
        finally:
            await database.close()
