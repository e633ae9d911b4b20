"""Which reminders a booking has, and when each is due.

Nothing is planned ahead and stored: a booking's reminders follow from the booking as it is now
(confirmed, its slot), the time it took that slot as a confirmed booking (its history) and its
practitioner's offsets. A cancellation drops them and a move moves them without a write of their
own; only what was sent is recorded (keyed by booking, start and offset), so that each goes once.

The rules (docs/architecture.md, "Reminders"):
- a confirmed booking has one reminder per offset, due `offset` before its start;
- none for a booking that took its slot at or after the reminder's time: booked (or confirmed, or
  moved) inside the window, the confirmation (or the move's notice) was enough;
- a reminder stays due until the session starts, so one whose time passed while no worker ran goes
  out late rather than never;
- a moved booking's reminders are those of its new start: one sent for the old start does not
  count for the new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from attrs import frozen

from booking_core.booking import CONFIRMATIONS, Booking, BookingEvent, BookingStatus, Trigger

EMAIL_REMINDERS = "email"  # the one channel reminders go on today

# The events after which a booking holds its slot confirmed: its (first or late) confirmation, and
# a move (the client chose the new time then, or heard of it from the practitioner's move).
PLACEMENTS = CONFIRMATIONS | {Trigger.RESCHEDULED}


@frozen
class Reminder:
    booking_id: str
    slot_start: datetime  # the start it reminds of: a moved booking's earlier one is another reminder
    offset: timedelta
    channel: str = EMAIL_REMINDERS

    @property
    def due_at(self) -> datetime:
        return self.slot_start - self.offset

    def is_due(self, now: datetime) -> bool:
        """From its time until the session starts (late after an outage, never after the start)."""
        return self.due_at <= now < self.slot_start


def placed_at(history: Iterable[BookingEvent]) -> datetime | None:
    """When the booking last took its slot confirmed (None: never confirmed)."""
    return max((event.at for event in history if event.trigger in PLACEMENTS), default=None)


def planned_reminders(
    booking: Booking, placed: datetime | None, offsets: Iterable[timedelta]
) -> tuple[Reminder, ...]:
    """The reminders of `booking`, which took its slot at `placed`, under the practitioner's
    `offsets`: one per offset whose time comes after `placed`, earliest first; none unless confirmed."""
    if booking.status is not BookingStatus.CONFIRMED or placed is None:
        return ()
    start = booking.slot.start
    return tuple(
        Reminder(booking.id, start, offset)
        for offset in sorted(set(offsets), reverse=True)
        if placed < start - offset
    )


@frozen
class UpcomingBooking:
    """A confirmed booking still ahead, as a ReminderLedger reads it: when it took its slot
    (`placed_at`) and the offsets already sent for its current start."""

    booking: Booking
    placed_at: datetime | None
    sent: frozenset[timedelta] = frozenset()

    def unsent(self, offsets: Iterable[timedelta]) -> tuple[Reminder, ...]:
        planned = planned_reminders(self.booking, self.placed_at, offsets)
        return tuple(reminder for reminder in planned if reminder.offset not in self.sent)
