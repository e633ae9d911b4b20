"""The ReminderLedger contract (booking_core.ports.ReminderLedger), for any adapter: subclass
ReminderLedgerContract and give it two fixtures, `store` (an empty BookingStore) and `ledger` (a
ReminderLedger over the same data)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from booking_core.booking import Booking, Trigger
from booking_core.offer import Offer
from booking_core.ports import BookingStore, ReminderLedger
from booking_core.reminders import Reminder
from booking_core.testing.contracts import DAY, FREE, NOW, hold, stored, transition
from booking_core.timerange import TimeRange

WITHIN = timedelta(days=7)
DAY_BEFORE = timedelta(hours=24)
SOON_BEFORE = timedelta(hours=2)


async def confirmed(store: BookingStore, booking_id: str, start_minute: int, at: datetime = NOW) -> Booking:
    """A booking of a slot `start_minute` after midnight of DAY, held and paid at `at`."""
    booking, placed = hold(booking_id, start_minute, at=at)
    await store.add_if_free(booking, placed)
    paid, event = transition(booking, Trigger.PAYMENT_CONFIRMED, at)
    await store.save(booking, paid, event)
    return paid


def reminder(booking: Booking, offset: timedelta = DAY_BEFORE) -> Reminder:
    return Reminder(booking.id, booking.slot.start, offset)


class ReminderLedgerContract:
    pytestmark = pytest.mark.anyio

    async def test_upcoming_lists_confirmed_bookings_in_the_window_with_when_they_were_placed(
        self, store: BookingStore, ledger: ReminderLedger
    ) -> None:
        await confirmed(store, "paid", 9 * 60, at=NOW + timedelta(minutes=5))
        free, placed = hold("free", 11 * 60, price=FREE)
        await store.add_if_free(free, placed)
        pending, event = hold("pending", 13 * 60)
        await store.add_if_free(pending, event)
        cancelled = await confirmed(store, "cancelled", 15 * 60)
        after, event = transition(cancelled, Trigger.CANCELLED, NOW + timedelta(minutes=10))
        await store.save(cancelled, after, event)
        await confirmed(store, "far", 9 * 60 + 8 * 24 * 60)  # beyond the window

        upcoming = await ledger.upcoming(NOW, WITHIN)

        assert [(u.booking.id, u.placed_at, u.sent) for u in upcoming] == [
            ("paid", NOW + timedelta(minutes=5), frozenset()),
            ("free", NOW, frozenset()),
        ]
        assert upcoming[0].booking == await stored(store, "paid")

    async def test_a_session_that_started_is_not_upcoming(
        self, store: BookingStore, ledger: ReminderLedger
    ) -> None:
        booking = await confirmed(store, "b1", 9 * 60)
        assert [
            u.booking.id for u in await ledger.upcoming(booking.slot.start - timedelta(seconds=1), WITHIN)
        ]
        assert await ledger.upcoming(booking.slot.start, WITHIN) == []

    async def test_a_reminder_is_claimed_once_until_its_lease_ends(
        self, store: BookingStore, ledger: ReminderLedger
    ) -> None:
        booking = await confirmed(store, "b1", 9 * 60)
        due = reminder(booking)
        assert await ledger.claim([due], due.due_at, lease_seconds=60) == [due]
        assert await ledger.claim([due], due.due_at + timedelta(seconds=59), lease_seconds=60) == []
        assert await ledger.claim([due], due.due_at + timedelta(seconds=60), lease_seconds=60) == [due]

    async def test_a_sent_reminder_is_never_claimed_again_and_shows_as_sent(
        self, store: BookingStore, ledger: ReminderLedger
    ) -> None:
        booking = await confirmed(store, "b1", 9 * 60)
        day_before, soon_before = reminder(booking), reminder(booking, SOON_BEFORE)
        claimed = await ledger.claim([day_before, soon_before], day_before.due_at, lease_seconds=0)
        assert claimed == [day_before, soon_before]
        await ledger.mark_sent([day_before], day_before.due_at)
        later = soon_before.due_at + timedelta(hours=1)
        assert await ledger.claim([day_before, soon_before], later) == [soon_before]
        (upcoming,) = await ledger.upcoming(NOW, WITHIN)
        assert upcoming.sent == frozenset({DAY_BEFORE})

    async def test_reminders_of_other_bookings_and_offsets_are_independent(
        self, store: BookingStore, ledger: ReminderLedger
    ) -> None:
        first, second = await confirmed(store, "b1", 9 * 60), await confirmed(store, "b2", 11 * 60)
        at = reminder(second).due_at
        assert await ledger.claim([reminder(first)], at) == [reminder(first)]
        both = [reminder(first, SOON_BEFORE), reminder(second)]
        assert await ledger.claim(both, at) == both

    async def test_a_cancelled_or_moved_bookings_reminder_is_not_claimed(
        self, store: BookingStore, ledger: ReminderLedger
    ) -> None:
        booking = await confirmed(store, "b1", 9 * 60)
        elsewhere = Reminder(booking.id, booking.slot.start + timedelta(hours=1), DAY_BEFORE)
        at = elsewhere.due_at
        assert await ledger.claim([elsewhere], at) == []  # not the booking's start (moved since)
        after, event = transition(booking, Trigger.CANCELLED, at)
        await store.save(booking, after, event)
        assert await ledger.claim([reminder(booking)], at) == []
        assert await ledger.claim([Reminder("nobody", DAY, DAY_BEFORE)], at) == []

    async def test_a_moved_booking_is_placed_by_its_move_and_reminded_of_its_new_start(
        self, store: BookingStore, ledger: ReminderLedger
    ) -> None:
        booking = await confirmed(store, "b1", 9 * 60)
        old = reminder(booking)
        (claimed,) = await ledger.claim([old], old.due_at)
        await ledger.mark_sent([claimed], old.due_at)
        moved_at = old.due_at + timedelta(minutes=1)
        later = TimeRange.of(booking.slot.start + timedelta(days=2), booking.slot.duration)
        offer = Offer(booking.slot.duration, booking.price)
        moved, event = booking.reschedule(
            later, offer=offer, at=moved_at, reason="moved", by_practitioner=True
        )
        assert event is not None
        await store.save(booking, moved, event)

        (upcoming,) = await ledger.upcoming(moved_at, WITHIN)
        assert (upcoming.booking.slot, upcoming.placed_at, upcoming.sent) == (later, moved_at, frozenset())
        new = reminder(upcoming.booking)
        assert await ledger.claim([old], new.due_at) == []  # the old start's: not the booking's any more
        assert await ledger.claim([new], new.due_at) == [new]

    async def test_a_failed_reminder_waits_for_its_retry(
        self, store: BookingStore, ledger: ReminderLedger
    ) -> None:
        booking = await confirmed(store, "b1", 9 * 60)
        due = reminder(booking)
        (claimed,) = await ledger.claim([due], due.due_at)
        retry_at = due.due_at + timedelta(minutes=5)
        await ledger.mark_failed(claimed, due.due_at, "mail server said no", retry_at)
        assert await ledger.claim([due], retry_at - timedelta(seconds=1)) == []
        assert await ledger.claim([due], retry_at) == [due]
        (upcoming,) = await ledger.upcoming(NOW, WITHIN)
        assert upcoming.sent == frozenset()
