"""The SQL adapter's own surface: URL forms, migrations, the schema check, ping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from attrs import evolve
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from booking_adapters.sql import SchemaBehind, database_url, head_revisions, open_database, upgrade
from booking_adapters.sql.rows import practitioner_row
from booking_adapters.sql.scratch import scratch_database
from booking_adapters.sql.tables import metadata, practitioners
from booking_adapters.sql.url import migration_url
from booking_core.testing.contracts import sample_practitioner
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


def test_the_head_revision_is_0006_practitioner_removal() -> None:
    assert head_revisions() == ("0006_practitioner_removal",)


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


@contextmanager
def _database_before_email(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database of its own at the revision before practitioners had an e-mail column."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        upgrade(url, _BEFORE_EMAIL)
        yield url
        return
    request.getfixturevalue("postgres_url")  # skips (or fails under CI) when PostgreSQL is unreachable
    with scratch_database(POSTGRES_ADMIN_URL, prefix="booking_migration", revision=_BEFORE_EMAIL) as url:
        yield url


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_practitioners_stored_before_0003_gain_an_empty_email(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    practitioner = sample_practitioner()
    row = practitioner_row(practitioner)
    del row["email"]  # the columns of revision 0002
    with _database_before_email(kind, request, tmp_path) as url:
        engine = create_engine(migration_url(url), poolclass=NullPool)
        try:
            with engine.begin() as connection:
                connection.execute(practitioners.insert().values(row))
        finally:
            engine.dispose()
        upgrade(url)
        database = await open_database(url)
        try:
            assert await database.directory.get(practitioner.id) == evolve(practitioner, email=None)
        finally:
            await database.close()
