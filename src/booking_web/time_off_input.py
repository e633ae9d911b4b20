"""What a practitioner may give as the bounds of time off (the API's body and the page's form): a
date-time with its UTC offset, or a date, meaning whole local days in the practitioner's time zone
(a start date from its midnight, an end date to the end of that day). The page's form also sends
local date-times without an offset (`datetime-local`), which are the practitioner's wall time."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from booking_core import InvalidInput, TimeRange, zone
from booking_core.schedule import local_instant
from booking_web.local_days import local_midnight

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FORMS = "Give a date (YYYY-MM-DD) or a date-time with its UTC offset, e.g. 2030-01-08T13:00:00+01:00."


def time_off_span(start: str, end: str, timezone: str, *, wall_times: bool = False) -> TimeRange:
    """The span `start` .. `end` mean; InvalidInput naming each field that is wrong. With
    `wall_times`, a date-time without an offset is a wall time in `timezone`."""
    problems: dict[str, str] = {}
    bounds: dict[str, datetime] = {}
    for field, value in (("start", start), ("end", end)):
        try:
            bounds[field] = _instant(value, timezone, day_end=field == "end", wall_times=wall_times)
        except ValueError as problem:
            problems[field] = str(problem)
    if not problems and bounds["end"] <= bounds["start"]:
        problems["end"] = "The end must be after the start."
    if problems:
        raise InvalidInput(problems)
    return TimeRange(bounds["start"], bounds["end"])


def _instant(value: str, timezone: str, *, day_end: bool, wall_times: bool) -> datetime:
    if _DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
            return local_midnight(day + timedelta(days=1) if day_end else day, timezone)
        except (ValueError, OverflowError):
            raise ValueError("This date is out of range.") from None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(_FORMS) from None
    if instant.utcoffset() is not None:
        return instant
    if not wall_times:
        raise ValueError(_FORMS)
    try:  # the first of an ambiguous wall time, the end of a DST gap for one inside it
        return local_instant(instant.date(), instant.hour * 60 + instant.minute, zone(timezone))
    except OverflowError:
        raise ValueError("This date is out of range.") from None
