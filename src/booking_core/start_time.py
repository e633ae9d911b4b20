"""The one rule for a booking's requested start time, shared by the service and the web's parsers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Slot arithmetic (length, buffers, the days around a slot) reaches this far either side of a start.
_CALENDAR_MARGIN = timedelta(days=7)


def start_time_problem(start: datetime) -> str | None:
    """Why `start` cannot begin a booking (the message for the client), or None if it can."""
    if start.tzinfo is None or start.utcoffset() is None:
        return "The start time needs a UTC offset, e.g. 2026-03-02T09:00:00+01:00."
    if not _within_calendar(start):
        return "The start time is outside the range of dates that can be booked."
    return None


def _within_calendar(start: datetime) -> bool:
    """False for instants so near year 1 or 9999 that slot arithmetic would overflow; no
    practitioner offers those anyway."""
    try:
        start.astimezone(UTC) - _CALENDAR_MARGIN + 2 * _CALENDAR_MARGIN
    except OverflowError:
        return False
    return True
