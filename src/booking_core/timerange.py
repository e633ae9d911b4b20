"""Half-open UTC time ranges: the one way the core speaks of spans of time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from itertools import islice
from operator import attrgetter, eq

from attrs import field, frozen


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
    return value.astimezone(UTC)


@frozen(order=True)
class TimeRange:
    """`[start, end)` in UTC; construction normalises any aware datetime to UTC."""

    start: datetime = field(converter=_to_utc)
    end: datetime = field(converter=_to_utc)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty time range {self.start.isoformat()} .. {self.end.isoformat()}")

    @classmethod
    def of(cls, start: datetime, length: timedelta) -> TimeRange:
        return cls(start, start + length)

    @classmethod
    def _trusted(cls, start: datetime, end: datetime) -> TimeRange:
        """Skip conversion and checks, for hot loops whose values are UTC and ordered by construction."""
        instance = object.__new__(cls)
        object.__setattr__(instance, "start", start)
        object.__setattr__(instance, "end", end)
        return instance

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: TimeRange) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: TimeRange) -> bool:
        return self.start <= other.start and other.end <= self.end

    def widen(self, before: timedelta, after: timedelta) -> TimeRange:
        return TimeRange(self.start - before, self.end + after)


# Sort key: a C-level getter, many times faster in hot loops than attrs' generated ordering.
bounds = attrgetter("start", "end")


def ascending(instants: Iterable[datetime]) -> list[datetime]:
    """Sorted and without repeats; in the usual case (already so) two C-level passes."""
    result = sorted(instants)
    if any(map(eq, result, islice(result, 1, None))):
        result = sorted(set(result))
    return result


def merge(ranges: Iterable[TimeRange]) -> list[TimeRange]:
    """Sorted union of possibly overlapping or touching ranges."""
    merged: list[TimeRange] = []
    for current in sorted(ranges, key=bounds):
        if merged and current.start <= merged[-1].end:
            if current.end > merged[-1].end:
                merged[-1] = TimeRange._trusted(merged[-1].start, current.end)
        else:
            merged.append(current)
    return merged
