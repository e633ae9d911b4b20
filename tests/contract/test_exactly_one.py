"""50 clients, one slot: exactly one booking and 49 SlotUnavailable, against the real databases,
from separate connections of one process and from separate OS processes."""

from __future__ import annotations

import queue
from collections import Counter
from datetime import timedelta

import pytest

from booking_core import BookingStatus, BookingStore, TimeRange, Trigger
from booking_core.testing.contracts import DAY, NOW, hold
from tests.contract.conftest import open_empty
from tests.contract.racing import RACE_AT, SLOT_MINUTE, race, race_in_process, race_in_processes

CLIENTS = 50
PROCESSES = 4
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


async def _assert_one_live_booking(store: BookingStore, outcomes: Counter[str]) -> None:
    assert outcomes == {"booked": 1, "unavailable": CLIENTS - 1}
    window = TimeRange(DAY, DAY + timedelta(days=1))
    (span,) = await store.busy("pr-a", window, RACE_AT)
    assert span.start == DAY.replace(hour=9)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", DATABASES)
@pytest.mark.parametrize("lapsed_hold_in_the_way", [False, True], ids=["free", "lapsed-hold"])
async def test_connections_racing_for_one_slot(
    kind: str, lapsed_hold_in_the_way: bool, request: pytest.FixtureRequest
) -> None:
    database = await open_empty(kind, request, pool_size=CLIENTS)
    try:
        if lapsed_hold_in_the_way:
            await database.store.add_if_free(*hold("lapsed", SLOT_MINUTE + 30, at=NOW))
        outcomes = await race(database.store, [f"c{i}" for i in range(CLIENTS)])
        await _assert_one_live_booking(database.store, outcomes)
        if lapsed_hold_in_the_way:
            lapsed = await database.store.get("lapsed")
            assert lapsed is not None and lapsed.status is BookingStatus.EXPIRED
            releases = [
                e for e in await database.store.history("lapsed") if e.trigger is Trigger.HOLD_RELEASED
            ]
            assert len(releases) == 1
    finally:
        await database.close()


@pytest.mark.anyio
@pytest.mark.parametrize("kind", DATABASES)
async def test_processes_racing_for_one_slot(kind: str, request: pytest.FixtureRequest) -> None:
    database = await open_empty(kind, request)
    url = request.getfixturevalue("sqlite_url" if kind == "sqlite" else "postgres_url")
    clients = [f"c{i}" for i in range(CLIENTS)]
    try:
        outcomes = race_in_processes(race_in_process, url, clients, PROCESSES)
        await _assert_one_live_booking(database.store, outcomes)
    except queue.Empty:
        pytest.fail("a racing process did not report within 180 s")
    finally:
        await database.close()
