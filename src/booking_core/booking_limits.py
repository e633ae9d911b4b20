"""How many bookings a practitioner takes a day and a week ("at most 4 sessions a day, 15 a week"),
in the practitioner's local calendar, weeks from Monday; a limit may also be a service's own.

A limit counts live bookings (confirmed ones, and holds that have not lapsed) whose slot starts
within the local day or week. The store counts them in the write that adds a booking
(`BookingStore.add_if_free`): availability leaves out a day or week at its limit, but only the
store's count decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from attrs import field, frozen

from booking_core.errors import BookingLimitReached
from booking_core.schedule import local_instant, zone
from booking_core.timerange import TimeRange


def _positive_or_none(_instance: object, attribute: object, value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{getattr(attribute, 'name', 'limit')} must be at least 1")


@frozen
class BookingLimits:
    """At most `per_day` / `per_week` live bookings; None: no limit."""

    per_day: int | None = field(default=None, validator=_positive_or_none)
    per_week: int | None = field(default=None, validator=_positive_or_none)

    @property
    def any(self) -> bool:
        return self.per_day is not None or self.per_week is not None


NO_LIMITS = BookingLimits()


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"


_DAYS = {Period.DAY: 1, Period.WEEK: 7}


def local_period(start: datetime, timezone: str, period: Period) -> TimeRange:
    """The local day, or the week from Monday, in `timezone` that `start` falls in, in UTC (a day
    across a daylight-saving change is 23 or 25 hours long)."""
    tz = zone(timezone)
    day = start.astimezone(tz).date()
    first = day - timedelta(days=day.weekday()) if period is Period.WEEK else day
    return TimeRange(local_instant(first, 0, tz), local_instant(first + timedelta(days=_DAYS[period]), 0, tz))


@frozen
class BookingLimit:
    """At most `most` live bookings of a practitioner (of the service `service_id` only, when it is
    set) may start within `span`, their local day or week."""

    span: TimeRange
    most: int
    period: Period
    service_id: str | None = None

    def counts(self, start: datetime, service_id: str) -> bool:
        """Whether a live booking of `service_id` starting at `start` counts against this limit."""
        return self.span.start <= start < self.span.end and self.service_id in (None, service_id)

    def is_reached(self, live: Iterable[tuple[datetime, str]]) -> bool:
        """Whether the live bookings (start, service id) leave no room under this limit."""
        return sum(self.counts(start, service_id) for start, service_id in live) >= self.most

    def refusal(self, count: int) -> BookingLimitReached | None:
        """The error for a new booking when `count` live bookings count against this limit already."""
        if count < self.most:
            return None
        what = f"booking{'' if self.most == 1 else 's'}" + (" of this service" if self.service_id else "")
        return BookingLimitReached(
            f"This {self.period} is fully booked: the practitioner takes at most {self.most} "
            f"{what} a {self.period}. Please choose another {self.period}."
        )


def limits_at(
    start: datetime, timezone: str, scoped: Iterable[tuple[BookingLimits, str | None]]
) -> tuple[BookingLimit, ...]:
    """The limits a booking starting at `start` counts against: each of `scoped`'s limits (with the
    service it is scoped to, None for every service) over its local day or week in `timezone`."""
    found: list[BookingLimit] = []
    for limits, service_id in scoped:
        for period, most in ((Period.DAY, limits.per_day), (Period.WEEK, limits.per_week)):
            if most is not None:
                found.append(BookingLimit(local_period(start, timezone, period), most, period, service_id))
    return tuple(found)
