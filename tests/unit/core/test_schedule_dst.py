"""Local wall-clock hours stay right across DST changes, in zones with odd rules."""

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking_core import DateOverride, LocalHours, TimeRange, WeeklySchedule, slot_grid
from booking_core.testing.strategies import weekly_schedules

HOUR = timedelta(hours=1)


def _every_day(tz: str, hours: str) -> WeeklySchedule:
    return WeeklySchedule(tz, [[LocalHours.parse(hours)]] * 7)


def _local_starts(schedule: WeeklySchedule, day: date, length: timedelta, step: timedelta) -> list[str]:
    tz = ZoneInfo(schedule.timezone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    window = TimeRange(start, start + timedelta(days=1))
    return [f"{s.start.astimezone(tz):%H:%M}" for s in slot_grid(schedule, window, length, step)]


@pytest.mark.parametrize(
    ("tz", "before", "change", "after"),
    [
        ("Europe/Berlin", date(2030, 3, 30), date(2030, 3, 31), date(2030, 4, 1)),  # spring forward
        ("Europe/Berlin", date(2030, 10, 26), date(2030, 10, 27), date(2030, 10, 28)),  # fall back
        ("America/New_York", date(2030, 3, 9), date(2030, 3, 10), date(2030, 3, 11)),
        ("America/New_York", date(2030, 11, 2), date(2030, 11, 3), date(2030, 11, 4)),
        ("Australia/Lord_Howe", date(2030, 4, 6), date(2030, 4, 7), date(2030, 4, 8)),  # 30-minute shift
        ("Australia/Lord_Howe", date(2030, 10, 5), date(2030, 10, 6), date(2030, 10, 7)),
        ("Asia/Kolkata", date(2030, 3, 30), date(2030, 3, 31), date(2030, 4, 1)),  # +05:30, no DST
    ],
)
def test_nine_to_five_stays_nine_to_five_local(tz: str, before: date, change: date, after: date) -> None:
    schedule = _every_day(tz, "09:00-17:00")
    expected = [f"{h:02d}:00" for h in range(9, 17)]
    for day in (before, change, after):
        assert _local_starts(schedule, day, HOUR, HOUR) == expected
    utc_offsets = {
        datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(tz)).replace(hour=12).utcoffset()
        for day in (before, after)
    }
    assert len(utc_offsets) == (1 if tz == "Asia/Kolkata" else 2)  # the zone really changed offset


def test_nonexistent_local_times_are_skipped() -> None:
    # Berlin 2030-03-31: 02:00 jumps to 03:00; 02:00 and 02:30 do not exist.
    schedule = _every_day("Europe/Berlin", "01:00-04:00")
    starts = _local_starts(schedule, date(2030, 3, 31), timedelta(minutes=30), timedelta(minutes=30))
    assert starts == ["01:00", "01:30", "03:00", "03:30"]


def test_lord_howe_half_hour_gap_is_skipped() -> None:
    # Lord Howe 2030-10-06: 02:00 jumps to 02:30.
    schedule = _every_day("Australia/Lord_Howe", "01:00-04:00")
    starts = _local_starts(schedule, date(2030, 10, 6), timedelta(minutes=30), timedelta(minutes=30))
    assert starts == ["01:00", "01:30", "02:30", "03:00", "03:30"]


def test_ambiguous_local_times_are_resolved_once_to_the_first() -> None:
    # New York 2030-11-03: 01:00-02:00 happens twice; each local start appears once, on EDT.
    schedule = _every_day("America/New_York", "00:00-03:00")
    tz = ZoneInfo("America/New_York")
    day = date(2030, 11, 3)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    slots = slot_grid(schedule, TimeRange(start, start + timedelta(days=1)), HOUR, HOUR)
    assert [f"{s.start.astimezone(tz):%H:%M %Z}" for s in slots] == ["00:00 EDT", "01:00 EDT", "02:00 EST"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(slots))


def test_date_overrides_close_days_and_change_hours() -> None:
    schedule = WeeklySchedule(
        "Europe/Berlin",
        {"mon": [LocalHours.parse("09:00-12:00")]},
        [DateOverride(date(2030, 1, 7)), DateOverride(date(2030, 1, 8), [LocalHours.parse("14:00-16:00")])],
    )
    assert _local_starts(schedule, date(2030, 1, 7), HOUR, HOUR) == []  # a Monday, closed
    assert _local_starts(schedule, date(2030, 1, 8), HOUR, HOUR) == ["14:00", "15:00"]  # a Tuesday, extra
    assert _local_starts(schedule, date(2030, 1, 14), HOUR, HOUR) == ["09:00", "10:00", "11:00"]


@pytest.mark.parametrize(
    ("text", "error"),
    [("9-17", "HH:MM"), ("17:00-09:00", "start < end"), ("09:00-24:30", "HH:MM"), ("09:60-10:00", "HH:MM")],
)
def test_bad_hours_are_rejected(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        LocalHours.parse(text)


def test_midnight_end_and_overlap_checks() -> None:
    assert LocalHours.parse("20:00-24:00").end_minute == 24 * 60
    with pytest.raises(ValueError, match="overlap"):
        WeeklySchedule("UTC", {"mon": [LocalHours.parse("09:00-12:00"), LocalHours.parse("11:00-13:00")]})
    with pytest.raises(ValueError, match="IANA"):
        WeeklySchedule("Mars/Olympus", {})


@given(weekly_schedules(), st.integers(0, 700), st.sampled_from([15, 30, 50, 60]))
def test_slots_lie_within_local_opening_hours(
    schedule: WeeklySchedule, day_offset: int, minutes: int
) -> None:
    tz = ZoneInfo(schedule.timezone)
    length = timedelta(minutes=minutes)
    window = TimeRange.of(datetime(2030, 1, 1, tzinfo=UTC) + timedelta(days=day_offset), timedelta(days=3))
    slots = slot_grid(schedule, window, length, length)
    assert slots == sorted(set(slots))
    for slot in slots:
        assert window.start <= slot.start < window.end and slot.duration == length
        local = slot.start.astimezone(tz)
        # the local start is a real wall time inside one of that day's blocks, and the slot ends in it
        minute = local.hour * 60 + local.minute
        blocks = schedule.hours_on(local.date())
        assert any(b.start_minute <= minute < b.end_minute for b in blocks)
