"""The SQL conditions (booking_adapters.sql.conditions) say what the core's rules say, on SQLite and
PostgreSQL: live_at is Booking.is_live, ahead_at is Booking.is_ahead, lapsed_at is a pending hold
that is not live, and overlapping is TimeRange.overlaps of the occupied spans (touching is fine)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from attrs import evolve
from sqlalchemy import ColumnElement, insert, select

from booking_adapters.sql import Database
from booking_adapters.sql.conditions import ahead_at, lapsed_at, live_at, overlapping
from booking_adapters.sql.rows import booking_row
from booking_adapters.sql.tables import bookings
from booking_core import Booking, BookingStatus, TimeRange
from booking_core.testing.contracts import NOW, hold
from tests.contract.conftest import open_empty

SESSION = timedelta(minutes=50)
# Around NOW: before it, exactly at it, after it.
OFFSETS = (-SESSION, timedelta(0), SESSION)


def _every_case() -> list[Booking]:
    """One booking per status, hold expiry and session end around NOW, each of its own practitioner
    (no two are in each other's way, so the database takes them all)."""
    cases = []
    for number, (status, expiry, end) in enumerate(itertools.product(BookingStatus, OFFSETS, OFFSETS)):
        slot = TimeRange(NOW + end - SESSION, NOW + end)
        booking, _ = hold(f"b-{number}", 0, practitioner_id=f"pr-{number}")
        cases.append(evolve(booking, status=status, hold_expires_at=NOW + expiry, slot=slot, occupied=slot))
    return cases


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[Database]:
    database = await open_empty(request.param, request)
    try:
        yield database
    finally:
        await database.close()


async def _ids(database: Database, cases: list[Booking], condition: ColumnElement[bool]) -> set[str]:
    async with database.engine.begin() as connection:
        await connection.execute(insert(bookings), [booking_row(booking) for booking in cases])
        rows = await connection.execute(select(bookings.c.id).where(condition))
        found = set(rows.scalars())
        await connection.rollback()
    return found


@pytest.mark.parametrize(
    ("condition", "rule"),
    [
        (live_at, Booking.is_live),
        (ahead_at, Booking.is_ahead),
        (lapsed_at, lambda b, now: b.status is BookingStatus.PENDING_PAYMENT and not b.is_live(now)),
    ],
    ids=["live_at", "ahead_at", "lapsed_at"],
)
async def test_a_condition_selects_what_the_core_rule_accepts(
    database: Database,
    condition: Callable[..., ColumnElement[bool]],
    rule: Callable[[Booking, object], bool],
) -> None:
    cases = _every_case()
    expected = {booking.id for booking in cases if rule(booking, NOW)}
    assert expected  # the cases cover both answers
    assert expected != {booking.id for booking in cases}
    assert await _ids(database, cases, condition(NOW)) == expected


async def test_overlapping_is_the_overlap_of_occupied_spans(database: Database) -> None:
    practitioner = "pr-a"
    cases = [hold(f"b-{minute}", minute, practitioner_id=practitioner)[0] for minute in range(0, 600, 50)] + [
        hold("elsewhere", 100, practitioner_id="pr-b")[0]
    ]
    window = TimeRange(cases[2].occupied.start + timedelta(minutes=10), cases[5].occupied.start)
    expected = {
        booking.id
        for booking in cases
        if booking.practitioner_id == practitioner and booking.occupied.overlaps(window)
    }
    assert expected == {"b-100", "b-150", "b-200"}  # b-250 only touches the window's end
    found = await _ids(database, cases, overlapping(practitioner, window.start, window.end))
    assert found == expected
