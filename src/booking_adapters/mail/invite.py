"""RFC 5545 calendar invites for a booking: one UID per booking, REQUEST on confirmation and
CANCEL (same UID, higher SEQUENCE) on cancellation, so calendar apps update the one event."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

import icalendar

from booking_core import Booking, Practitioner, zone


class InviteMethod(StrEnum):
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


# A calendar keeps the version with the highest SEQUENCE; a booking changes at most once after
# confirmation (it is cancelled), so two fixed numbers suffice.
_SEQUENCE = {InviteMethod.REQUEST: 0, InviteMethod.CANCEL: 1}


def invite_uid(booking_id: str, host: str) -> str:
    return f"{booking_id}@{host}"


def calendar_invite(
    booking: Booking,
    practitioner: Practitioner,
    method: InviteMethod,
    *,
    host: str,
    organizer: str,
    stamp: datetime,
) -> bytes:
    """The .ics for `booking`. Times carry the practitioner's zone with its VTIMEZONE, so the
    instant stays right across a DST change; `stamp` (the event's time) keeps a retry identical."""
    tz = zone(practitioner.timezone)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//booking-engine//notifications//EN")
    cal.add("version", "2.0")
    cal.add("method", method.value)
    cal.add_component(_timezone(practitioner.timezone, booking.slot.start.date()))

    event = icalendar.Event()
    event.add("uid", invite_uid(booking.id, host))
    event.add("sequence", _SEQUENCE[method])
    event.add("dtstamp", stamp)
    event.add("dtstart", booking.slot.start.astimezone(tz))
    event.add("dtend", booking.slot.end.astimezone(tz))
    event.add("summary", f"{booking.service_name} with {practitioner.name}")  # "Session with ..."
    event.add("status", "CANCELLED" if method is InviteMethod.CANCEL else "CONFIRMED")
    event.add("organizer", _address(organizer, practitioner.name))
    event.add("attendee", _address(booking.client.email, booking.client.name, rsvp=False))
    if practitioner.email:
        event.add("attendee", _address(practitioner.email, practitioner.name, rsvp=False))
    cal.add_component(event)
    return bytes(cal.to_ical())


def _timezone(tzid: str, around: date) -> icalendar.Timezone:
    # Only the transitions near the session: the full 1970-2038 table would bloat every mail.
    return icalendar.Timezone.from_tzinfo(
        zone(tzid), tzid, first_date=around - timedelta(days=366), last_date=around + timedelta(days=366)
    )


def _address(email: str, name: str, *, rsvp: bool | None = None) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params["CN"] = name
    if rsvp is not None:
        address.params["RSVP"] = "TRUE" if rsvp else "FALSE"
    return address
