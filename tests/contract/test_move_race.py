"""20 confirmed bookings all move into the same free slot at once while a new booking races them
for it: exactly one wins, the 20 others get SlotUnavailable and keep their time, and no two live
bookings overlap; against the real databases, from separate connections of one process and from
separate OS processes (issue 16)."""

from __future__ import annotations

import itertools
import queue
from collections import Counter
from datetime import timedelta

import pytest

from booking_core import BookingStore, TimeRange
from booking_core.testing.contracts import DAY
from tests.contract.conftest import open_empty
from tests.contract.racing import (
    MOVE_TO_MINUTE,
    NEW_BOOKING,
    RACE_AT,
    mover,
    place_movers,
    race_in_processes,
    race_to_move,
    race_to_move_in_process,
)

MOVERS = 20
PROCESSES = 4
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


async def _assert_one_winner(store: BookingStore, outcomes: Counter[str]) -> None:
    assert outcomes == {"booked": 1, "unavailable": MOVERS}
    day = await store.bookings_of("pr-a", TimeRange(DAY, DAY + timedelta(days=1)))
    live = [booking for booking in day if booking.is_live(RACE_AT)]
    assert len(live) == MOVERS + (NEW_BOOKING in {booking.id for booking in live})
    for a, b in itertools.combinations(live, 2):
        assert not a.occupied.overlaps(b.occupied), (a.id, b.id)
    target = DAY + timedelta(minutes=MOVE_TO_MINUTE)
    (winner,) = [
        booking for booking in live if booking.occupied.overlaps(TimeRange.of(target, timedelta(hours=1)))
    ]
    for number in range(MOVERS):  # every loser where it was, untouched
        _held, (paid, _payment) = mover(number)
        if paid.id != winner.id:
            assert await store.get(paid.id) == paid


@pytest.mark.anyio
@pytest.mark.parametrize("kind", DATABASES)
async def test_connections_racing_to_move_into_one_slot(kind: str, request: pytest.FixtureRequest) -> None:
    database = await open_empty(kind, request, pool_size=MOVERS + 1)
    try:
        racers = await place_movers(database.store, MOVERS)
        outcomes = await race_to_move(database.store, racers)
        await _assert_one_winner(database.store, outcomes)
    finally:
        await database.close()


@pytest.mark.anyio
@pytest.mark.parametrize("kind", DATABASES)
async def test_processes_racing_to_move_into_one_slot(kind: str, request: pytest.FixtureRequest) -> None:
    database = await open_empty(kind, request)
    url = request.getfixturevalue("sqlite_url" if kind == "sqlite" else "postgres_url")
    try:
        racers = await place_movers(database.store, MOVERS)
        outcomes = race_in_processes(race_to_move_in_process, url, racers, PROCESSES)
        await _assert_one_winner(database.store, outcomes)
    except queue.Empty:
        pytest.fail("a racing process did not report within 180 s")
    finally:
        await database.close()
