"""A week of one service's free times, as the booking page, the client's manage page and the
practitioner's move page show it: the week asked for (if it can hold a bookable day), its free
starts by local day in one time zone, and the weeks before and after that the page may link."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from attrs import frozen

from booking_core import Booking, BookingService, Practitioner, ProviderError, TimeRange, zone
from booking_web.errors import status_for
from booking_web.local_days import days_window, monday_of, slots_by_day, today_in


@frozen
class FreeWeek:
    timezone: str
    week: date  # its Monday
    previous_week: date | None  # None: nothing bookable before it
    next_week: date | None  # None: beyond the practitioner's horizon
    days: list[tuple[date, list[datetime]]]
    message: str = ""  # the availability provider's failure, for the page to show
    status: int = 200

    def context(self) -> dict[str, Any]:
        """What the week's templates (week_slots.html) read."""
        return {
            "timezone": self.timezone,
            "week": self.week,
            "week_end": self.week + timedelta(days=6),
            "previous_week": self.previous_week,
            "next_week": self.next_week,
            "days": self.days,
        }


async def free_week(
    service: BookingService,
    practitioner: Practitioner,
    service_id: str | None,
    timezone: str,
    week_text: str,
    moving: Booking | None = None,
) -> FreeWeek:
    """The week named by `week_text` (any day of it; else this week) of `service_id`'s free times in
    `timezone` (else the practitioner's); no times when `service_id` is None (none chosen yet).
    With `moving`, the times that booking (of `service_id`) may move to: its own time taken by
    nothing, so a start within it is free when what follows is (a move by less than its length)."""
    timezone = valid_zone(timezone, practitioner.timezone)
    today = today_in(timezone, service.clock)
    last_day = today + timedelta(days=practitioner.offer.horizon.days)
    week = _valid_week(week_text, today, last_day)
    days: list[tuple[date, list[datetime]]] = []
    message, status = "", 200
    try:
        if service_id is not None:
            window = TimeRange(*days_window(week, week + timedelta(days=6), timezone))
            availability = (
                await service.move_options(moving, window)
                if moving is not None
                else await service.list_availability(practitioner.id, window, service_id)
            )
            days = slots_by_day(availability.slots, timezone)
    except ProviderError as error:
        message, status = error.message, status_for(error)
    return FreeWeek(
        timezone=timezone,
        week=week,
        previous_week=week - timedelta(days=7) if week > monday_of(today) else None,
        next_week=week + timedelta(days=7) if week + timedelta(days=7) <= last_day else None,
        days=days,
        message=message,
        status=status,
    )


def week_of(instant: datetime, timezone: str) -> str:
    """The `week_text` of the week around `instant` in `timezone` (a booking's own week)."""
    return instant.astimezone(zone(timezone)).date().isoformat()


def valid_zone(name: str, fallback: str) -> str:
    try:
        zone(name)
    except ValueError:
        return fallback
    return name


def _valid_week(text: str, today: date, last_day: date) -> date:
    """The week asked for if it can hold a bookable day, else this week (the page links no others)."""
    try:
        week = monday_of(date.fromisoformat(text))
    except ValueError:
        return monday_of(today)
    return week if monday_of(today) <= week <= last_day else monday_of(today)
