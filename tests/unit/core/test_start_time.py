from datetime import UTC, datetime, timedelta, timezone

import pytest

from booking_core import start_time_problem


def test_an_aware_start_inside_the_calendar_has_no_problem() -> None:
    assert start_time_problem(datetime(2030, 1, 7, 9, 0, tzinfo=timezone(timedelta(hours=1)))) is None


def test_a_start_without_an_offset_is_refused() -> None:
    assert start_time_problem(datetime(2030, 1, 7, 9, 0)) == (
        "The start time needs a UTC offset, e.g. 2026-03-02T09:00:00+01:00."
    )


@pytest.mark.parametrize(
    "start",
    [
        datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=14))),  # before the first UTC instant
        datetime(1, 1, 3, 0, 0, tzinfo=UTC),  # slot arithmetic a week back would overflow
        datetime(9999, 12, 28, 0, 0, tzinfo=UTC),  # ... and a week on
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-14))),
    ],
)
def test_a_start_at_the_calendar_edge_is_refused(start: datetime) -> None:
    assert start_time_problem(start) == "The start time is outside the range of dates that can be booked."


def test_the_calendar_edge_leaves_a_week_either_side() -> None:
    assert start_time_problem(datetime(1, 1, 9, 0, 0, tzinfo=UTC)) is None
    assert start_time_problem(datetime(9999, 12, 23, 0, 0, tzinfo=UTC)) is None
