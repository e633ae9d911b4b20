"""Weekly opening hours in the practitioner's IANA time zone, with date overrides.

DST lives here: the slot grid is laid in local wall-clock time, so a 09:00-17:00 day stays
09:00-17:00 local on both sides of a change. A local time that does not exist (the spring gap)
is skipped; an ambiguous one (the autumn repeat) is resolved once, to its first occurrence.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import field, frozen

from booking_core.timerange import TimeRange, ascending

MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@lru_cache(maxsize=1024)  # more than the ~600 IANA names: ZoneInfo's own cache keeps 8 strongly
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or ValueError naming it (never a bare lookup error). Kept once read:
    ZoneInfo re-reads the file of a zone its small cache let go (a stat and a parse, ~0.3 ms), and
    an availability answer names two zones. A name that fails is not kept."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a tzdata folder, an overlong name
        raise ValueError(f"{name[:60]!r} is not an IANA time zone") from None


def _check_zone(_instance: object, _attribute: object, value: str) -> None:
    zone(value)


@frozen(order=True)
class LocalHours:
    """Opening hours within one local day, as minutes since midnight: `[start, end)`, end up to 24:00."""

    start_minute: int
    end_minute: int

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise ValueError(f"hours {self} must satisfy 00:00 <= start < end <= 24:00")

    @classmethod
    def parse(cls, text: str) -> LocalHours:
        """`LocalHours.parse("09:00-17:30")`."""
        try:
            start, end = (_minutes(part.strip()) for part in text.split("-"))
        except ValueError:
            raise ValueError(f"{text!r} is not of the form HH:MM-HH:MM") from None
        return cls(start, end)

    def __str__(self) -> str:
        return f"{_hhmm(self.start_minute)}-{_hhmm(self.end_minute)}"


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    if len(minutes) != 2 or not hours.isdigit() or not minutes.isdigit():
        raise ValueError(text)
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > MINUTES_PER_DAY:
        raise ValueError(text)
    return value


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _hours_tuple(value: object) -> tuple[LocalHours, ...]:
    hours = tuple(sorted(value))  # type: ignore[call-overload]
    for earlier, later in itertools.pairwise(hours):
        if later.start_minute < earlier.end_minute:
            raise ValueError(f"hours {earlier} and {later} overlap")
    return hours


@frozen
class DateOverride:
    """Hours for one calendar date that replace the weekly hours; no hours means closed."""

    day: date
    hours: tuple[LocalHours, ...] = field(default=(), converter=_hours_tuple)


def _week(value: object) -> tuple[tuple[LocalHours, ...], ...]:
    if isinstance(value, Mapping):
        unknown = set(value) - set(WEEKDAYS)
        if unknown:
            raise ValueError(f"unknown weekday(s) {sorted(unknown)}; use {', '.join(WEEKDAYS)}")
        return tuple(_hours_tuple(value.get(day, ())) for day in WEEKDAYS)
    week = tuple(_hours_tuple(day) for day in value)  # type: ignore[attr-defined]
    if len(week) != 7:
        raise ValueError("a week has 7 days, Monday first")
    return week


def _overrides(value: object) -> tuple[DateOverride, ...]:
    overrides = tuple(sorted(value, key=lambda o: o.day))  # type: ignore[call-overload]
    days = [o.day for o in overrides]
    if len(set(days)) != len(days):
        raise ValueError("at most one override per date")
    return overrides


@frozen
class WeeklySchedule:
    """`week[0]` is Monday's hours. From a mapping: `WeeklySchedule("Europe/Berlin", {"mon": [...]})`."""

    timezone: str = field(validator=_check_zone)
    week: tuple[tuple[LocalHours, ...], ...] = field(converter=_week)
    overrides: tuple[DateOverride, ...] = field(default=(), converter=_overrides)

    def hours_on(self, day: date) -> tuple[LocalHours, ...]:
        for override in self.overrides:
            if override.day == day:
                return override.hours
        return self.week[day.weekday()]


def _midnight_offset(day: date, tz: ZoneInfo) -> timedelta:
    """The UTC offset at the start of `day`. A day whose offset differs from the next day's has a DST
    change (also one at midnight itself: fold=0 reads the offset from before it)."""
    offset = datetime.combine(day, time(), tzinfo=tz).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset


def _naive(day: date, minute: int) -> datetime:
    return datetime.combine(day, time()) + timedelta(minutes=minute)


def existing_instant(day: date, minute: int, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall time (its first occurrence if ambiguous), or None for a
    time skipped by a DST change."""
    naive = _naive(day, minute)
    instant = naive.replace(tzinfo=tz).astimezone(UTC)
    return instant if instant.astimezone(tz).replace(tzinfo=None) == naive else None


def local_instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time: the first occurrence if ambiguous, and for a time
    inside a DST gap the moment the gap ends (the first instant that exists after it)."""
    instant = existing_instant(day, minute, tz)
    if instant is not None:
        return instant
    naive = _naive(day, minute)
    instant = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    # In a gap fold=0 applies the offset from before the change, which lands after the gap:
    # the gap ends at the first instant whose local time is past the requested one.
    after = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return min(instant, after)


def slot_starts(
    schedule: WeeklySchedule, window: TimeRange, length: timedelta, step: timedelta
) -> list[datetime]:
    """Start times (UTC, sorted, unique) of slots of `length`, laid every `step` from the start of each
    opening-hours block in wall-clock time, that fit in their block and start within `window`."""
    tz = zone(schedule.timezone)
    step = max(step, timedelta(minutes=1))
    starts: list[datetime] = []
    day = window.start.astimezone(tz).date() - timedelta(days=1)
    last_day = window.end.astimezone(tz).date()
    offset = _midnight_offset(day, tz)
    while day <= last_day:
        next_day = day + timedelta(days=1)
        next_offset = _midnight_offset(next_day, tz)
        for hours in schedule.hours_on(day):
            if next_offset != offset:  # a DST change today: the careful path
                starts.extend(_starts_across_change(day, hours, tz, length, step))
                continue
            midnight = datetime.combine(day, time(), tzinfo=UTC) - offset
            starts.extend(
                [midnight + o for o in _offsets(hours.start_minute, hours.end_minute, length, step)]
            )
        day, offset = next_day, next_offset
    starts = ascending(starts)
    return starts[bisect_left(starts, window.start) : bisect_left(starts, window.end)]


def slot_grid(
    schedule: WeeklySchedule, window: TimeRange, length: timedelta, step: timedelta
) -> list[TimeRange]:
    """`slot_starts` as ranges."""
    return [
        TimeRange._trusted(start, start + length) for start in slot_starts(schedule, window, length, step)
    ]


@lru_cache(maxsize=512)
def _offsets(start_minute: int, end_minute: int, length: timedelta, step: timedelta) -> tuple[timedelta, ...]:
    """Offsets from local midnight of the slot starts in one opening-hours block (days without a
    DST change all share them)."""
    first, last = timedelta(minutes=start_minute), timedelta(minutes=end_minute) - length
    count = (last - first) // step + 1 if last >= first else 0
    return tuple(first + i * step for i in range(count))


def _starts_across_change(
    day: date, hours: LocalHours, tz: ZoneInfo, length: timedelta, step: timedelta
) -> list[datetime]:
    block_end = local_instant(day, hours.end_minute, tz)
    step_minutes = int(step.total_seconds() // 60)
    starts = []
    for minute in range(hours.start_minute, hours.end_minute, step_minutes):
        start = existing_instant(day, minute, tz)
        if start is not None and start + length <= block_end:
            starts.append(start)
    return starts
