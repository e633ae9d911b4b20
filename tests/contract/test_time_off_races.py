"""Time off and bookings racing for the same hour on the real databases, from separate connections:
either the time off or one booking stands, never both. On PostgreSQL also each interleaving the
advisory lock serialises (migration 0009), made deterministic: the second writer waits for the
first's commit and then sees what it wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from sqlalchemy import insert, text

from booking_adapters.sql import Database
from booking_adapters.sql.rows import booking_row, time_off_row
from booking_adapters.sql.tables import bookings, time_off
from booking_adapters.sql.time_off import TIME_OFF_LOCK_NAMESPACE
from booking_core import SlotUnavailable, TimeOffConflicts
from booking_core.testing.contracts import NOW, hold
from booking_core.testing.time_off_contracts import (
    WHOLE_DAY,
    assert_one_winner,
    race_time_off,
)
from booking_core.testing.time_off_contracts import (
    time_off as sample_time_off,
)
from tests.contract.conftest import open_empty

pytestmark = pytest.mark.anyio
REQUESTS = 20  # per round: 19 bookings and one time off
ROUNDS = 5
WAIT_SECONDS = 10.0  # for a writer to start waiting on the lock, before the test fails


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_twenty_connections_racing_time_off_and_bookings(
    kind: str, request: pytest.FixtureRequest
) -> None:
    database = await open_empty(kind, request, pool_size=REQUESTS)
    try:
        for round_ in range(ROUNDS):
            practitioner_id = f"pr-race-{round_}"
            outcomes = await race_time_off(database.store, practitioner_id, bookings=REQUESTS - 1)
            assert len(outcomes) == REQUESTS
            assert_one_winner(outcomes, await database.store.busy(practitioner_id, WHOLE_DAY, NOW))
    finally:
        await database.close()


@pytest.fixture
async def postgres(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[Database]:
    database = await open_empty("postgres", request)
    try:
        yield database
    finally:
        await database.close()


async def _until_a_writer_waits_for_the_lock(database: Database) -> None:
    waiting = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = :namespace"
    )
    with anyio.fail_after(WAIT_SECONDS):
        while True:
            async with database.engine.connect() as connection:
                if (await connection.execute(waiting, {"namespace": TIME_OFF_LOCK_NAMESPACE})).scalar():
                    return
            await anyio.sleep(0.01)


@pytest.mark.postgres
async def test_a_booking_waiting_for_time_off_being_added_is_refused_at_its_commit(
    postgres: Database,
) -> None:
    outcome: list[str] = []

    async def book() -> None:
        try:
            await postgres.store.add_if_free(*hold("b1", 10 * 60))
        except SlotUnavailable:
            outcome.append("refused")
        else:
            outcome.append("booked")

    async with postgres.engine.connect() as adding:  # time off added as the adapter does, held open
        lock = text("SELECT pg_advisory_xact_lock(:namespace, hashtext('pr-a'))")
        await adding.execute(lock, {"namespace": TIME_OFF_LOCK_NAMESPACE})
        await adding.execute(insert(time_off).values(time_off_row(sample_time_off("t1", 9 * 60, 12 * 60))))
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(book)
            await _until_a_writer_waits_for_the_lock(postgres)
            await adding.commit()
    assert outcome == ["refused"]
    assert await postgres.store.get("b1") is None


@pytest.mark.postgres
async def test_time_off_waiting_for_a_booking_being_made_is_refused_at_its_commit(
    postgres: Database,
) -> None:
    outcome: list[str] = []

    async def take_time_off() -> None:
        try:
            await postgres.store.add_time_off(sample_time_off("t1", 9 * 60, 12 * 60), NOW)
        except TimeOffConflicts as conflicts:
            outcome.append(f"refused over {', '.join(conflicts.booking_ids)}")
        else:
            outcome.append("added")

    async with postgres.engine.connect() as booking:  # a booking inserted, not yet committed
        held, _event = hold("b1", 10 * 60)
        await booking.execute(insert(bookings).values(booking_row(held)))
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(take_time_off)
            await _until_a_writer_waits_for_the_lock(postgres)
            await booking.commit()
    assert outcome == ["refused over b1"]
    assert await postgres.store.time_off("pr-a", WHOLE_DAY) == []
