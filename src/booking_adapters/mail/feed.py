"""A practitioner's calendar feed as RFC 5545 text (what Google Calendar, Apple Calendar and Outlook
subscribe to). Each session keeps the UID of the client's invite (`invite_uid`), so a calendar that
has both shows one event; the body depends only on the data, so equal data gives equal bytes (and
an equal ETag)."""

from __future__ import annotations

from datetime import timedelta

import icalendar

from booking_adapters.mail.invite import invite_uid, uid_host, zone_component
from booking_core import ATTENDED_STATUSES, Booking, BookingStatus, TimeOff, zone
from booking_core.calendar_feed import FeedContent

# Calendar apps poll at their own pace; this asks for hourly where they honour it.
REFRESH_INTERVAL = timedelta(hours=1)


def feed_calendar(content: FeedContent, *, public_base_url: str) -> bytes:
    host = uid_host(public_base_url)
    practitioner = content.practitioner
    cal = icalendar.Calendar()
    cal.add("prodid", "-//booking-engine//calendar feed//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Bookings: {practitioner.name}")
    cal.add("x-wr-timezone", practitioner.timezone)
    cal.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", REFRESH_INTERVAL)
    window = content.window
    cal.add_component(zone_component(practitioner.timezone, window.start.date(), window.end.date()))
    for booking in content.sessions:
        cal.add_component(_session(booking, content, host))
    for block in content.time_off:
        cal.add_component(_busy(block, content, host))
    return bytes(cal.to_ical())


_SUMMARY_NOTES = {BookingStatus.PENDING_PAYMENT: " (awaiting payment)", BookingStatus.NO_SHOW: " (no-show)"}


def _session(booking: Booking, content: FeedContent, host: str) -> icalendar.Event:
    tz = zone(content.practitioner.timezone)
    client = booking.client
    confirmed = booking.status in ATTENDED_STATUSES
    event = icalendar.Event()
    event.add("uid", invite_uid(booking.id, host))
    event.add("dtstamp", booking.updated_at)
    event.add("last-modified", booking.updated_at)
    event.add("sequence", booking.reschedule_count)  # as the invites after each move (invite_sequence)
    event.add("dtstart", booking.slot.start.astimezone(tz))
    event.add("dtend", booking.slot.end.astimezone(tz))
    summary = f"{booking.service_name}: {client.name}"
    event.add("summary", summary + _SUMMARY_NOTES.get(booking.status, ""))
    event.add("description", _description(booking))
    event.add("status", "CONFIRMED" if confirmed else "TENTATIVE")
    event.add("transp", "OPAQUE")
    return event


def _description(booking: Booking) -> str:
    client = booking.client
    lines = [
        f"Client: {client.name}",
        f"E-mail: {client.email}",
        f"Phone: {client.phone}",
        f"Service: {booking.service_name}",
        f"Paid: {booking.amount_paid}" if booking.amount_paid else f"Awaiting payment of {booking.price}",
        f"Booking reference: {booking.id}",
    ]
    return "\n".join(lines)


def _busy(block: TimeOff, content: FeedContent, host: str) -> icalendar.Event:
    tz = zone(content.practitioner.timezone)
    event = icalendar.Event()
    event.add("uid", f"time-off-{block.id}@{host}")
    event.add("dtstamp", block.created_at)
    event.add("dtstart", block.span.start.astimezone(tz))
    event.add("dtend", block.span.end.astimezone(tz))
    event.add("summary", f"Time off: {block.note}" if block.note else "Time off")
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event
