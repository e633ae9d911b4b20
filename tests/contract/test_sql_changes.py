"""PostgreSQL's change feed: every process hears of every change to a practitioner or their
bookings (migration 0002's triggers), and hears of a gap whenever it may have missed some."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import anyio
import pytest
from attrs import define, field

from booking_adapters.sql import ChangeFeed, Database, listening_conninfo
from booking_core import Trigger
from booking_core.testing.contracts import NOW, hold, sample_practitioner, transition
from booking_core.testing.time_off_contracts import time_off as sample_time_off
from tests.contract.conftest import open_empty

pytestmark = [pytest.mark.postgres, pytest.mark.anyio]
WAIT_SECONDS = 10.0  # how long to wait for a notification before the test fails


@define
class Heard:
    changes: list[str] = field(factory=list)  # "bookings:<id>" or "practitioner:<id>"
    gaps: int = 0

    def bookings(self, practitioner_id: str) -> None:
        self.changes.append(f"bookings:{practitioner_id}")

    def practitioner(self, practitioner_id: str) -> None:
        self.changes.append(f"practitioner:{practitioner_id}")

    def gap(self) -> None:
        self.gaps += 1


async def eventually(condition: Callable[[], bool]) -> None:
    """Poll `condition` (set by another task) until it holds; fail after WAIT_SECONDS."""
    with anyio.fail_after(WAIT_SECONDS):
        while not condition():  # noqa: ASYNC110 (the feed offers no event to wait on)
            await anyio.sleep(0.01)


@pytest.fixture
async def database(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[Database]:
    database = await open_empty("postgres", request)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def listening(postgres_url: str, database: Database) -> AsyncIterator[tuple[ChangeFeed, Heard]]:
    heard = Heard()
    feed = ChangeFeed(
        listening_conninfo(postgres_url),
        on_bookings=heard.bookings,
        on_practitioner=heard.practitioner,
        on_gap=heard.gap,
    )
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(feed.run)
        await eventually(lambda: feed.live)
        yield feed, heard
        tasks.cancel_scope.cancel()


async def test_booking_and_practitioner_changes_are_heard_after_commit(
    database: Database, listening: tuple[ChangeFeed, Heard]
) -> None:
    _feed, heard = listening
    assert heard.gaps == 1  # on connecting: whatever happened before was not heard
    await database.directory.upsert(sample_practitioner("pr-a"))
    await eventually(lambda: heard.changes == ["practitioner:pr-a"])

    booking, event = hold("b1", 9 * 60, practitioner_id="pr-a")
    await database.store.add_if_free(booking, event)
    await eventually(lambda: heard.changes == ["practitioner:pr-a", "bookings:pr-a"])
    released, released_event = transition(booking, Trigger.HOLD_RELEASED, NOW)
    await database.store.save(booking, released, released_event)
    await eventually(lambda: heard.changes == ["practitioner:pr-a", "bookings:pr-a", "bookings:pr-a"])


async def test_a_rolled_back_write_is_not_heard(
    database: Database, listening: tuple[ChangeFeed, Heard]
) -> None:
    _feed, heard = listening
    await database.directory.upsert(sample_practitioner("pr-b"))
    async with database.engine.connect() as connection:
        await connection.exec_driver_sql("UPDATE practitioners SET name = 'Changed' WHERE id = 'pr-a'")
        await connection.exec_driver_sql("UPDATE practitioners SET name = 'Changed' WHERE id = 'pr-b'")
        await connection.rollback()
    await database.directory.upsert(sample_practitioner("pr-c"))
    await eventually(lambda: heard.changes == ["practitioner:pr-b", "practitioner:pr-c"])


async def test_a_lost_connection_is_a_gap_and_the_feed_comes_back(
    database: Database, listening: tuple[ChangeFeed, Heard]
) -> None:
    feed, heard = listening
    async with database.engine.connect() as connection:
        result = await connection.exec_driver_sql(
            # only this run's scratch database: other runs on the same server keep their listeners
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN%%'"
        )
        assert result.scalars().all() == [True]
    await eventually(lambda: heard.gaps >= 3)  # connected, lost, connected again
    await eventually(lambda: feed.live)
    await database.directory.upsert(sample_practitioner("pr-d"))
    await eventually(lambda: "practitioner:pr-d" in heard.changes)


def test_the_listening_connection_string_drops_the_driver() -> None:
    conninfo = listening_conninfo("postgresql+psycopg://app:secret@db.example:5433/booking?sslmode=require")
    assert conninfo == "postgresql://app:secret@db.example:5433/booking?sslmode=require"


async def test_time_off_added_and_removed_is_heard_as_a_change_to_bookings(
    database: Database, listening: tuple[ChangeFeed, Heard]
) -> None:
    _feed, heard = listening
    await database.store.add_time_off(sample_time_off("t1", 9 * 60, 12 * 60, practitioner_id="pr-e"), NOW)
    await eventually(lambda: heard.changes == ["bookings:pr-e"])
    await database.store.remove_time_off("pr-e", "t1")
    await eventually(lambda: heard.changes == ["bookings:pr-e", "bookings:pr-e"])
