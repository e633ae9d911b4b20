"""One runner for the races of tests/contract/racing.py: each race on SQLite and PostgreSQL, from
separate connections of one process and from separate OS processes.

A race is a RaceCase (how it runs, who races, what is stored first, what must hold afterwards); a
test module names it in a subclass of RaceContract, which brings the tests. Kept apart from
racing.py, which spawned processes import and which therefore stays free of pytest and fixtures.
"""

from __future__ import annotations

import queue
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar

import pytest
from attrs import frozen

from booking_core import BookingStore
from tests.contract.conftest import open_empty
from tests.contract.racing import Race, race_in_processes

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
PROCESSES = 4


async def _nothing_to_place(_store: BookingStore) -> None:
    return None


@frozen
class RaceCase:
    """A race: `race` (module-level, so that spawned processes import it by name) runs `racers`
    after `place` has stored what they need; `check` asserts what must hold afterwards, given the
    store and the outcomes counted over every racer."""

    race: Race
    racers: Sequence[Any]
    check: Callable[[BookingStore, Counter[str]], Awaitable[None]]
    place: Callable[[BookingStore], Awaitable[None]] = _nothing_to_place


class RaceContract:
    """A race's tests: subclass as `Test...` with the `case` to run."""

    pytestmark = pytest.mark.anyio
    case: ClassVar[RaceCase]

    @pytest.mark.parametrize("kind", DATABASES)
    async def test_from_connections_of_one_process(self, kind: str, request: pytest.FixtureRequest) -> None:
        case = self.case
        database = await open_empty(kind, request, pool_size=len(case.racers))
        try:
            await case.place(database.store)
            outcomes = await case.race(database.store, case.racers)
            await case.check(database.store, outcomes)
        finally:
            await database.close()

    @pytest.mark.parametrize("kind", DATABASES)
    async def test_from_separate_processes(self, kind: str, request: pytest.FixtureRequest) -> None:
        case = self.case
        database = await open_empty(kind, request)
        url = request.getfixturevalue("sqlite_url" if kind == "sqlite" else "postgres_url")
        try:
            await case.place(database.store)
            outcomes = race_in_processes(case.race, url, case.racers, PROCESSES)
            await case.check(database.store, outcomes)
        except queue.Empty:
            pytest.fail("a racing process did not report within 180 s")
        finally:
            await database.close()
