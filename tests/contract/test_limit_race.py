"""20 clients book 20 different free slots of one day at once, under a limit of 3 bookings a day:
exactly 3 bookings, 17 refusals, against the real databases, from separate connections of one
process and from separate OS processes (the database decides: no read before the write counts)."""

from __future__ import annotations

import queue
from collections import Counter
from datetime import timedelta

import pytest

from booking_core import BookingStore, TimeRange
from booking_core.testing.contracts import DAY
from tests.contract.conftest import open_empty
from tests.contract.racing import (
    DAY_LIMIT,
    RACE_AT,
    race_for_the_day,
    race_for_the_day_in_process,
    race_in_processes,
)

CLIENTS = 20
PROCESSES = 4
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


async def _assert_the_limit_held(store: BookingStore, outcomes: Counter[str]) -> None:
    assert outcomes == {"booked": DAY_LIMIT, "limit reached": CLIENTS - DAY_LIMIT}
    day = await store.bookings_of("pr-a", TimeRange(DAY, DAY + timedelta(days=1)))
    assert len([booking for booking in day if booking.is_live(RACE_AT)]) == DAY_LIMIT


@pytest.mark.anyio
@pytest.mark.parametrize("kind", DATABASES)
async def test_connections_racing_for_a_limited_day(kind: str, request: pytest.FixtureRequest) -> None:
    database = await open_empty(kind, request, pool_size=CLIENTS)
    try:
        outcomes = await race_for_the_day(database.store, range(CLIENTS))
        await _assert_the_limit_held(database.store, outcomes)
    finally:
        await database.close()


@pytest.mark.anyio
@pytest.mark.parametrize("kind", DATABASES)
async def test_processes_racing_for_a_limited_day(kind: str, request: pytest.FixtureRequest) -> None:
    database = await open_empty(kind, request)
    url = request.getfixturevalue("sqlite_url" if kind == "sqlite" else "postgres_url")
    numbers = list(range(CLIENTS))
    try:
        outcomes = race_in_processes(race_for_the_day_in_process, url, numbers, PROCESSES)
        await _assert_the_limit_held(database.store, outcomes)
    except queue.Empty:
        pytest.fail("a racing process did not report within 180 s")
    finally:
        await database.close()
