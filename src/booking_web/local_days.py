"""Calendar days as a visitor in some time zone sees them: windows, weeks, slots grouped by day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from itertools import groupby

from booking_core import Clock, InvalidInput, TimeRange, zone
from booking_core.schedule import local_instant


def today_in(timezone: str, clock: Clock) -> date:
    return clock.now().astimezone(zone(timezone)).date()


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_midnight(day: date, timezone: str) -> datetime:
    return local_instant(day, 0, zone(timezone))


def days_window(
    first: date, last: date, timezone: str, *, end_field: str = "end"
) -> tuple[datetime, datetime]:
    """From the start of `first` to the end of `last`, local days in `timezone`. A problem with
    `last` names `end_field` (the start's, when the end was derived from it)."""
    if last < first:
        raise InvalidInput({end_field: "The end date must not be before the start date."})
    try:
        return local_midnight(first, timezone), local_midnight(last + timedelta(days=1), timezone)
    except OverflowError:  # the calendar's first and last days have no midnight in every zone
        raise InvalidInput(
            {"start" if first.year == 1 else end_field: "This date is out of range."}
        ) from None


def days_after(first: date, days: int, field: str) -> date:
    """`days` after `first`; InvalidInput naming `field` past the calendar's last day."""
    try:
        return first + timedelta(days=days)
    except OverflowError:
        raise InvalidInput({field: "This date is too close to the end of the calendar."}) from None


def slots_by_day(slots: Iterable[TimeRange], timezone: str) -> list[tuple[date, list[datetime]]]:
    """Slot starts in local time, grouped by local day, in order."""
    tz = zone(timezone)
    starts = sorted(slot.start.astimezone(tz) for slot in slots)
    return [(day, list(group)) for day, group in groupby(starts, key=lambda start: start.date())]
