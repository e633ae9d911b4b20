"""A practitioner's sessions as their bookings page lists them: by local day, each with the
client's contact, its status and its payment in words."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from itertools import groupby

from attrs import frozen

from booking_core import ATTENDANCE_WINDOW, Booking, BookingStatus, zone

S = BookingStatus
# Holds that lapsed unpaid never were sessions: the page leaves them out (the API has them).
SHOWN_STATUSES = frozenset(BookingStatus) - {S.EXPIRED}

_STATUS_WORDS = {
    S.PENDING_PAYMENT: "Awaiting payment",
    S.CONFIRMED: "Confirmed",
    S.EXPIRED: "Hold lapsed",
    S.CANCELLED: "Cancelled",
    S.REFUND_DUE: "Refund due",
    S.REFUNDED: "Refunded",
    S.COMPLETED: "Completed",
    S.NO_SHOW: "No-show",
}
# called off, or never paid: the page shows them struck through
_CALLED_OFF = frozenset({S.EXPIRED, S.CANCELLED, S.REFUND_DUE, S.REFUNDED})


@frozen
class SessionLine:
    booking: Booking
    start: datetime  # local
    end: datetime
    status: str
    payment: str
    past: bool
    cancelled: bool
    cancellable: bool  # still live and not started: the page offers to cancel it
    no_show_markable: bool  # over, held, not a no-show, within ATTENDANCE_WINDOW: offers "No-show"
    no_show_undoable: bool  # a no-show within the window: offers to take it back


def payment_in_words(booking: Booking) -> str:
    """`Free`, `Paid 90.00 EUR`, `Paid 90.00 EUR; 45.00 EUR refunded`, `Paid ...; refund of ... on
    its way`, `Not paid yet`, `Not paid`."""
    paid = booking.amount_paid
    if booking.is_free:
        return "Free"
    if paid is None:
        return "Not paid yet" if booking.status is S.PENDING_PAYMENT else "Not paid"
    words = [f"Paid {paid}"]
    if booking.amount_refunded is not None:
        words.append(f"{booking.amount_refunded} refunded")
    elif booking.refund_owed is not None:
        words.append(f"refund of {booking.refund_owed} on its way")
    return "; ".join(words)


def _attendance_open(booking: Booking, now: datetime) -> bool:
    return booking.slot.end <= now <= booking.slot.end + ATTENDANCE_WINDOW


def sessions_by_day(
    bookings: Iterable[Booking], timezone: str, now: datetime
) -> list[tuple[date, list[SessionLine]]]:
    """`bookings` (ordered by start) grouped by local day in `timezone`."""
    tz = zone(timezone)
    lines = [
        SessionLine(
            booking=b,
            start=b.slot.start.astimezone(tz),
            end=b.slot.end.astimezone(tz),
            status=_STATUS_WORDS[b.status],
            payment=payment_in_words(b),
            past=b.slot.end <= now,
            cancelled=b.status in _CALLED_OFF,
            cancellable=b.status in (S.PENDING_PAYMENT, S.CONFIRMED) and b.slot.start > now,
            no_show_markable=b.status in (S.CONFIRMED, S.COMPLETED) and _attendance_open(b, now),
            no_show_undoable=b.status is S.NO_SHOW and _attendance_open(b, now),
        )
        for b in bookings
    ]
    return [(day, list(group)) for day, group in groupby(lines, key=lambda line: line.start.date())]
