"""The move of a booking (Booking.reschedule saved by BookingStore.save) as a contract (see
contracts.py for how to subclass one): the new span claimed and the old one released in one step,
checked against other bookings, time off and limits as a new booking is. Fixture: `store`, empty."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import anyio
import pytest

from booking_core.booking import Booking, BookingEvent, BookingStatus, Trigger
from booking_core.errors import BookingLimitReached, ConcurrentUpdate, SlotUnavailable, TimeOffConflicts
from booking_core.offer import Offer
from booking_core.ports import BookingStore
from booking_core.testing.contracts import (
    DAY,
    HOLD,
    NOW,
    PRICE,
    client,
    day_limit,
    hold,
    stored,
    transition,
)
from booking_core.testing.time_off_contracts import time_off
from booking_core.timerange import TimeRange

LENGTH = timedelta(minutes=50)


def moved(
    booking: Booking, start_minute: int, *, before: int = 0, after: int = 0, at: datetime = NOW
) -> tuple[Booking, BookingEvent]:
    """`booking` moved (by the practitioner: no notice) to `start_minute` after midnight of DAY,
    with buffers in minutes."""
    offer = Offer(
        LENGTH, PRICE, buffer_before=timedelta(minutes=before), buffer_after=timedelta(minutes=after)
    )
    slot = TimeRange.of(DAY + timedelta(minutes=start_minute), LENGTH)
    after_move, event = booking.reschedule(
        slot, offer=offer, at=at, reason="contract: moved", by_practitioner=True
    )
    assert event is not None
    return after_move, event


async def confirmed(store: BookingStore, number: int, start_minute: int, **options: Any) -> Booking:
    """The paid booking `b{number}` of `start_minute` (of a client of its own), stored."""
    booking, event = hold(f"b{number}", start_minute, client=client(number), **options)
    await store.add_if_free(booking, event)
    paid, payment = transition(booking, Trigger.PAYMENT_CONFIRMED, NOW)
    await store.save(booking, paid, payment)
    return paid


class MoveContract:
    """Moving a live booking in a BookingStore. Fixture: `store`, empty."""

    pytestmark = pytest.mark.anyio

    async def test_a_move_into_a_free_slot_frees_the_old_one(self, store: BookingStore) -> None:
        booking = await confirmed(store, 1, 9 * 60, after=10)
        after, event = moved(booking, 14 * 60, after=10)
        await store.save(booking, after, event)
        assert await store.get("b1") == after
        assert (after.slot.start, after.reschedule_count, after.version) == (
            DAY + timedelta(hours=14),
            1,
            booking.version + 1,
        )
        last = (await store.history("b1"))[-1]
        assert (last.trigger, last.moved_from, last.moved_to) == (
            Trigger.RESCHEDULED,
            booking.slot,
            after.slot,
        )
        whole_day = TimeRange(DAY, DAY + timedelta(days=1))
        assert await store.busy("pr-a", whole_day, NOW) == [after.occupied]
        await store.add_if_free(*hold("b2", 9 * 60))  # the old time is free for others at once

    async def test_a_move_into_a_taken_slot_changes_nothing(self, store: BookingStore) -> None:
        booking = await confirmed(store, 1, 9 * 60)
        other = await confirmed(store, 2, 12 * 60, after=10)
        history = await store.history("b1")
        for start_minute in (12 * 60, 12 * 60 + 55, 11 * 60 + 15):  # on it, in its buffer, into it
            with pytest.raises(SlotUnavailable) as refused:
                await store.save(booking, *moved(booking, start_minute))
            assert refused.value.message == SlotUnavailable().message
        assert await store.get("b1") == booking and await store.get("b2") == other
        assert await store.history("b1") == history

    async def test_a_move_by_less_than_its_length_overlaps_only_itself(self, store: BookingStore) -> None:
        booking = await confirmed(store, 1, 9 * 60, before=5, after=10)
        later, event = moved(booking, 9 * 60 + 20, before=5, after=10)
        await store.save(booking, later, event)
        earlier, event2 = moved(later, 9 * 60 - 30, before=5, after=10)
        await store.save(later, earlier, event2)
        assert (await stored(store, "b1")).slot == earlier.slot
        assert earlier.reschedule_count == 2

    async def test_a_move_by_less_than_its_length_into_another_booking_is_refused(
        self, store: BookingStore
    ) -> None:
        booking = await confirmed(store, 1, 9 * 60, after=10)
        other = await confirmed(store, 2, 10 * 60 + 15)
        history = await store.history("b1")
        for start_minute in (9 * 60 + 30, 9 * 60 + 20):  # into it; its buffer into it
            with pytest.raises(SlotUnavailable):
                await store.save(booking, *moved(booking, start_minute, after=10))
        assert await store.get("b1") == booking and await store.get("b2") == other
        assert await store.history("b1") == history
        await store.save(booking, *moved(booking, 9 * 60 + 15, after=10))  # its buffer touching it

    async def test_a_move_onto_time_off_is_refused(self, store: BookingStore) -> None:
        booking = await confirmed(store, 1, 9 * 60)
        await store.add_time_off(time_off("t1", 13 * 60, 15 * 60), NOW)
        with pytest.raises(SlotUnavailable):
            await store.save(booking, *moved(booking, 12 * 60 + 30))  # ends in it
        with pytest.raises(SlotUnavailable):  # its buffer reaches in
            await store.save(booking, *moved(booking, 12 * 60 + 5, after=10))
        assert await store.get("b1") == booking
        await store.save(booking, *moved(booking, 12 * 60 + 10))  # touching it

    async def test_time_off_over_a_booking_that_moved_away_is_taken(self, store: BookingStore) -> None:
        booking = await confirmed(store, 1, 9 * 60)
        await store.save(booking, *moved(booking, 16 * 60))
        await store.add_time_off(time_off("t1", 8 * 60, 12 * 60), NOW)
        with pytest.raises(TimeOffConflicts) as refused:  # the booking where it is now is in the way
            await store.add_time_off(time_off("t2", 16 * 60, 17 * 60), NOW)
        assert refused.value.booking_ids == ("b1",)

    async def test_a_move_to_another_day_counts_against_its_limits(self, store: BookingStore) -> None:
        booking = await confirmed(store, 1, 9 * 60)
        for number, minute in enumerate((24 * 60 + 9 * 60, 24 * 60 + 11 * 60), start=2):
            await confirmed(store, number, minute)
        next_day = 24 * 60 + 14 * 60
        with pytest.raises(BookingLimitReached):
            await store.save(booking, *moved(booking, next_day), limits=[day_limit(2, day=1)])
        assert await store.get("b1") == booking
        await store.save(booking, *moved(booking, next_day), limits=[day_limit(3, day=1)])
        assert (await stored(store, "b1")).slot.start == DAY + timedelta(minutes=next_day)

    async def test_a_move_releases_a_lapsed_hold_in_its_way(self, store: BookingStore) -> None:
        booking = await confirmed(store, 1, 9 * 60)
        await store.add_if_free(*hold("h1", 12 * 60, client=client(7), at=NOW - HOLD))  # lapsed by NOW
        await store.save(booking, *moved(booking, 12 * 60 + 20))
        released = await stored(store, "h1")
        assert released.status is BookingStatus.EXPIRED and released.payment_check_due
        assert (await store.history("h1"))[-1].trigger is Trigger.HOLD_RELEASED

    async def test_a_stale_move_is_a_concurrent_update(self, store: BookingStore) -> None:
        booking = await confirmed(store, 1, 9 * 60)
        first, event = moved(booking, 12 * 60)
        await store.save(booking, first, event)
        with pytest.raises(ConcurrentUpdate):
            await store.save(booking, *moved(booking, 15 * 60))
        assert await store.get("b1") == first

    async def test_of_moves_and_a_new_booking_racing_for_one_slot_one_wins(self, store: BookingStore) -> None:
        movers = [await confirmed(store, number, number * 60) for number in range(1, 6)]
        target = 18 * 60 + 20  # a time none of them holds
        outcomes: dict[str, str] = {}

        async def move(booking: Booking) -> None:
            try:
                await store.save(booking, *moved(booking, target))
                outcomes[booking.id] = "moved"
            except SlotUnavailable:
                outcomes[booking.id] = "refused"

        async def book() -> None:
            try:
                await store.add_if_free(*hold("new", target - 30, client=client(99)))
                outcomes["new"] = "booked"
            except SlotUnavailable:
                outcomes["new"] = "refused"

        async with anyio.create_task_group() as tasks:
            for booking in movers:
                tasks.start_soon(move, booking)
            tasks.start_soon(book)
        assert sorted(outcomes.values()).count("refused") == len(movers), outcomes
        for booking in movers:  # the losers kept their time
            if outcomes[booking.id] == "refused":
                assert await store.get(booking.id) == booking
