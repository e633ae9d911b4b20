"""The .ics parses back with icalendar and names the right instant, also across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from booking_adapters.mail import InviteMethod, calendar_invite
from booking_core import (
    Booking,
    ClientDetails,
    LocalHours,
    Money,
    Offer,
    Practitioner,
    TimeRange,
    WeeklySchedule,
)


def _practitioner(timezone: str) -> Practitioner:
    return Practitioner(
        id="p",
        name="Dr. Jane Doe",
        offer=Offer(session_length=timedelta(minutes=50), price=Money(9000, "EUR")),
        schedule=WeeklySchedule(timezone, {"mon": [LocalHours.parse("09:00-17:00")]}),
        email="jane@practice.example",
    )


def _booking(start: datetime, booked_at: datetime) -> Booking:
    slot = TimeRange.of(start, timedelta(minutes=50))
    booking, _ = Booking.hold(
        booking_id="bk000001",
        practitioner_id="p",
        slot=slot,
        occupied=slot,
        client=ClientDetails("Ann Example", "ann@example.com", "+493012345678"),
        client_timezone="Asia/Tokyo",
        price=Money(9000, "EUR"),
        hold_expires_at=booked_at + timedelta(minutes=30),
        cancel_token="token",
        now=booked_at,
    )
    return booking


def _invite(
    start: datetime, timezone: str, method: InviteMethod = InviteMethod.REQUEST
) -> icalendar.Calendar:
    booked_at = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
    ics = calendar_invite(
        _booking(start, booked_at),
        _practitioner(timezone),
        method,
        host="book.example.org",
        organizer="bookings@book.example.org",
        stamp=booked_at,
    )
    return icalendar.Calendar.from_ical(ics)


# (practitioner's zone, session start in UTC, the wall time a calendar must show)
DST_CASES = [
    ("Europe/Berlin", datetime(2030, 3, 29, 8, 0, tzinfo=UTC), datetime(2030, 3, 29, 9, 0)),  # CET, before
    ("Europe/Berlin", datetime(2030, 4, 1, 7, 0, tzinfo=UTC), datetime(2030, 4, 1, 9, 0)),  # CEST, after
    ("America/New_York", datetime(2030, 11, 1, 13, 0, tzinfo=UTC), datetime(2030, 11, 1, 9, 0)),  # EDT
    ("America/New_York", datetime(2030, 11, 4, 14, 0, tzinfo=UTC), datetime(2030, 11, 4, 9, 0)),  # EST
]


@pytest.mark.parametrize(("timezone", "start", "wall_time"), DST_CASES)
def test_dtstart_names_the_instant_in_the_practitioners_zone(
    timezone: str, start: datetime, wall_time: datetime
) -> None:
    event = _invite(start, timezone).walk("VEVENT")[0]
    assert event["DTSTART"].params["TZID"] == timezone
    assert event.decoded("DTSTART").replace(tzinfo=None) == wall_time
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTEND") == start + timedelta(minutes=50)


@pytest.mark.parametrize(("timezone", "start", "wall_time"), DST_CASES)
def test_embedded_vtimezone_alone_gives_the_same_instant(
    timezone: str, start: datetime, wall_time: datetime
) -> None:
    """A calendar that does not know the zone by name relies on the VTIMEZONE block."""
    calendar = _invite(start, timezone)
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert vtimezone["TZID"] == timezone
    embedded = vtimezone.to_tz(lookup_tzid=False)
    assert wall_time.replace(tzinfo=embedded).astimezone(UTC) == start


def test_cancel_keeps_the_uid_and_raises_the_sequence() -> None:
    start = datetime(2030, 4, 1, 7, 0, tzinfo=UTC)
    request = _invite(start, "Europe/Berlin", InviteMethod.REQUEST)
    cancel = _invite(start, "Europe/Berlin", InviteMethod.CANCEL)
    requested, cancelled = request.walk("VEVENT")[0], cancel.walk("VEVENT")[0]
    assert (request["METHOD"], cancel["METHOD"]) == ("REQUEST", "CANCEL")
    assert requested["UID"] == cancelled["UID"] == "bk000001@book.example.org"
    assert cancelled.decoded("SEQUENCE") > requested.decoded("SEQUENCE")
    assert cancelled["STATUS"] == "CANCELLED"


def test_attendees_are_client_and_practitioner() -> None:
    event = _invite(datetime(2030, 4, 1, 7, 0, tzinfo=UTC), "Europe/Berlin").walk("VEVENT")[0]
    assert sorted(str(a) for a in event["ATTENDEE"]) == [
        "mailto:ann@example.com",
        "mailto:jane@practice.example",
    ]
    assert str(event["ORGANIZER"]) == "mailto:bookings@book.example.org"
