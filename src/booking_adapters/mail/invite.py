"""RFC 5545 calendar invites for a booking: one UID per booking, REQUEST on confirmation and on
each move, CANCEL on cancellation, each with a higher SEQUENCE than the last, so calendar apps
update the one event."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

import icalendar

from booking_core import Booking, Practitioner, TimeRange, zone


class InviteMethod(StrEnum):
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


def invite_sequence(method: InviteMethod, moves: int) -> int:
    """A calendar keeps the version with the highest SEQUENCE. The request after `moves` moves is
    version `moves`; a cancellation comes after the last move (a cancelled booking moves no more),
    so it is one higher than any request of its booking."""
    return moves + 1 if method is InviteMethod.CANCEL else moves


def uid_host(public_base_url: str) -> str:
    """The host part of the UIDs (and e-mail Message-IDs) the service makes."""
    return urlsplit(public_base_url).hostname or "localhost"


def invite_uid(booking_id: str, host: str) -> str:
    """The one UID of a booking's event: in the client's invite, its update, and the practitioner's
    calendar feed."""
    return f"{booking_id}@{host}"


def calendar_invite(
    booking: Booking,
    practitioner: Practitioner,
    method: InviteMethod,
    *,
    host: str,
    organizer: str,
    stamp: datetime,
    slot: TimeRange | None = None,
    moves: int | None = None,
) -> bytes:
    """The .ics for `booking` at `slot` (default: where it is now) after `moves` moves (default:
    all it made). Times carry the practitioner's zone with its VTIMEZONE, so the instant stays
    right across a DST change; `stamp` (the event's time) keeps a retry identical."""
    slot = booking.slot if slot is None else slot
    moves = booking.reschedule_count if moves is None else moves
    tz = zone(practitioner.timezone)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//booking-engine//notifications//EN")
    cal.add("version", "2.0")
    cal.add("method", method.value)
    around = slot.start.date()
    # Only the transitions near the session: the full 1970-2038 table would bloat every mail.
    year = timedelta(days=366)
    cal.add_component(zone_component(practitioner.timezone, around - year, around + year))

    event = icalendar.Event()
    event.add("uid", invite_uid(booking.id, host))
    event.add("sequence", invite_sequence(method, moves))
    event.add("dtstamp", stamp)
    event.add("dtstart", slot.start.astimezone(tz))
    event.add("dtend", slot.end.astimezone(tz))
    event.add("summary", f"{booking.service_name} with {practitioner.name}")  # "Session with ..."
    event.add("status", "CANCELLED" if method is InviteMethod.CANCEL else "CONFIRMED")
    event.add("organizer", _address(organizer, practitioner.name))
    event.add("attendee", _address(booking.client.email, booking.client.name, rsvp=False))
    if practitioner.email:
        event.add("attendee", _address(practitioner.email, practitioner.name, rsvp=False))
    cal.add_component(event)
    return bytes(cal.to_ical())


def zone_component(tzid: str, first: date, last: date) -> icalendar.Timezone:
    """The VTIMEZONE of `tzid` with its transitions between `first` and `last`."""
    return icalendar.Timezone.from_tzinfo(zone(tzid), tzid, first_date=first, last_date=last)


def _address(email: str, name: str, *, rsvp: bool | None = None) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params["CN"] = name
    if rsvp is not None:
        address.params["RSVP"] = "TRUE" if rsvp else "FALSE"
    return address
