"""The time-off part of the BookingStore port as a contract (see contracts.py for how to subclass
one): adding, listing and removing a practitioner's time off, and the one guarantee that covers time
off and bookings together, whichever is written first. Fixture: `store`, empty."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import anyio
import pytest

from booking_core.booking import BookingStatus, Trigger
from booking_core.errors import SlotUnavailable, TimeOffConflicts
from booking_core.ports import BookingStore
from booking_core.testing.contracts import (
    DAY,
    HOLD,
    NOW,
    assert_reads_back,
    assert_sets_every_field,
    hold,
    stored,
    transition,
)
from booking_core.time_off import TimeOff
from booking_core.timerange import TimeRange

WHOLE_DAY = TimeRange(DAY, DAY + timedelta(days=1))


def span(start_minute: int, end_minute: int) -> TimeRange:
    """Minutes after midnight of DAY (the day the sample slots are on)."""
    return TimeRange(DAY + timedelta(minutes=start_minute), DAY + timedelta(minutes=end_minute))


def time_off(
    time_off_id: str,
    start_minute: int,
    end_minute: int,
    *,
    practitioner_id: str = "pr-a",
    note: str = "",
    created_at: datetime = NOW,
) -> TimeOff:
    return TimeOff(time_off_id, practitioner_id, span(start_minute, end_minute), created_at, note)


class TimeOffContract:
    """Time off in a BookingStore. Fixture: `store`, empty."""

    pytestmark = pytest.mark.anyio

    async def test_every_field_round_trips(self, store: BookingStore) -> None:
        block = time_off("t1", 9 * 60, 17 * 60, note="Dentist, then the afternoon off")
        assert_sets_every_field([block], "the sample time off")
        await store.add_time_off(block, NOW)
        (listed,) = await store.time_off("pr-a", WHOLE_DAY)
        assert_reads_back(block, listed, "add_time_off")

    async def test_listing_is_by_window_practitioner_and_start(self, store: BookingStore) -> None:
        for block in (
            time_off("late", 15 * 60, 16 * 60),
            time_off("early", 8 * 60, 9 * 60),
            time_off("overlapping", 8 * 60 + 30, 10 * 60),
            time_off("before", 6 * 60, 7 * 60),  # ends where the window starts
            time_off("other", 8 * 60, 9 * 60, practitioner_id="pr-b"),
        ):
            await store.add_time_off(block, NOW)
        listed = await store.time_off("pr-a", span(7 * 60, 15 * 60 + 1))
        assert [block.id for block in listed] == ["early", "overlapping", "late"]
        assert [block.id for block in await store.time_off("pr-b", WHOLE_DAY)] == ["other"]

    async def test_a_booking_inside_time_off_is_refused(self, store: BookingStore) -> None:
        await store.add_time_off(time_off("t1", 9 * 60, 12 * 60), NOW)
        with pytest.raises(SlotUnavailable) as refused:
            await store.add_if_free(*hold("b1", 11 * 60 + 30))
        assert refused.value.message == SlotUnavailable().message
        assert await store.get("b1") is None
        assert await store.history("b1") == []

    async def test_a_booking_touching_time_off_is_taken(self, store: BookingStore) -> None:
        await store.add_time_off(time_off("t1", 9 * 60, 12 * 60), NOW)
        await store.add_if_free(*hold("before", 8 * 60 + 10))  # ends at 9:00
        await store.add_if_free(*hold("after", 12 * 60))
        assert (await stored(store, "after")).status is BookingStatus.PENDING_PAYMENT

    async def test_buffers_may_not_reach_into_time_off(self, store: BookingStore) -> None:
        await store.add_time_off(time_off("t1", 9 * 60, 12 * 60), NOW)
        with pytest.raises(SlotUnavailable):  # the slot ends at 9:00, its buffer after does not
            await store.add_if_free(*hold("b1", 8 * 60 + 10, after=10))

    async def test_other_practitioners_time_off_does_not_block(self, store: BookingStore) -> None:
        await store.add_time_off(time_off("t1", 0, 24 * 60, practitioner_id="pr-b"), NOW)
        await store.add_if_free(*hold("b1", 9 * 60))

    async def test_time_off_over_live_bookings_is_refused_naming_them(self, store: BookingStore) -> None:
        confirmed, placed = hold("confirmed", 14 * 60, after=10)
        await store.add_if_free(confirmed, placed)
        await store.save(confirmed, *transition(confirmed, Trigger.PAYMENT_CONFIRMED, NOW))
        await store.add_if_free(*hold("held", 10 * 60))
        await store.add_if_free(*hold("outside", 16 * 60))
        with pytest.raises(TimeOffConflicts) as refused:
            await store.add_time_off(time_off("t1", 9 * 60, 14 * 60 + 55), NOW)
        assert refused.value.booking_ids == ("held", "confirmed")  # earliest first; buffers count
        assert await store.time_off("pr-a", WHOLE_DAY) == []

    async def test_bookings_no_longer_live_do_not_conflict(self, store: BookingStore) -> None:
        cancelled, placed = hold("cancelled", 9 * 60)
        await store.add_if_free(cancelled, placed)
        await store.save(cancelled, *transition(cancelled, Trigger.CANCELLED, NOW))
        await store.add_if_free(*hold("other", 9 * 60, practitioner_id="pr-b"))
        await store.add_time_off(time_off("t1", 8 * 60, 12 * 60), NOW)
        assert [block.id for block in await store.time_off("pr-a", WHOLE_DAY)] == ["t1"]

    async def test_a_lapsed_hold_in_the_way_is_released(self, store: BookingStore) -> None:
        await store.add_if_free(*hold("lapsed", 9 * 60))
        await store.add_if_free(*hold("untouched", 13 * 60))  # lapsed too, but not in the way
        await store.add_time_off(time_off("t1", 8 * 60, 12 * 60), NOW + HOLD)
        released = await stored(store, "lapsed")
        assert released.status is BookingStatus.EXPIRED
        assert released.payment_check_due  # only the provider can say whether it was paid meanwhile
        assert (await store.history("lapsed"))[-1].trigger is Trigger.HOLD_RELEASED
        assert (await stored(store, "untouched")).status is BookingStatus.PENDING_PAYMENT

    async def test_a_late_payment_cannot_confirm_inside_time_off(self, store: BookingStore) -> None:
        booking, event = hold("b1", 9 * 60)
        await store.add_if_free(booking, event)
        expired, released = transition(booking, Trigger.HOLD_RELEASED, NOW + HOLD)
        await store.save(booking, expired, released)
        await store.add_time_off(time_off("t1", 8 * 60, 12 * 60), NOW + HOLD)
        confirmed, paid = transition(expired, Trigger.PAYMENT_CONFIRMED, NOW + HOLD + timedelta(minutes=5))
        with pytest.raises(SlotUnavailable):
            await store.save(expired, confirmed, paid)
        assert await store.get("b1") == expired

    async def test_busy_includes_time_off(self, store: BookingStore) -> None:
        await store.add_if_free(*hold("b1", 9 * 60, after=10))
        await store.add_time_off(time_off("t1", 12 * 60, 13 * 60), NOW)
        await store.add_time_off(time_off("t2", 12 * 60 + 30, 14 * 60), NOW)  # blocks may overlap
        await store.add_time_off(time_off("t3", 20 * 60, 21 * 60), NOW)  # outside the window
        busy = await store.busy("pr-a", span(8 * 60, 15 * 60), NOW)
        assert busy == [span(9 * 60, 10 * 60), span(12 * 60, 13 * 60), span(12 * 60 + 30, 14 * 60)]

    async def test_removed_time_off_frees_its_time(self, store: BookingStore) -> None:
        block = time_off("t1", 9 * 60, 12 * 60, note="ill")
        await store.add_time_off(block, NOW)
        assert await store.remove_time_off("pr-a", "t1") == block
        assert await store.time_off("pr-a", WHOLE_DAY) == []
        assert await store.remove_time_off("pr-a", "t1") is None
        await store.add_if_free(*hold("b1", 10 * 60))

    async def test_only_its_practitioner_removes_time_off(self, store: BookingStore) -> None:
        await store.add_time_off(time_off("t1", 9 * 60, 12 * 60), NOW)
        assert await store.remove_time_off("pr-b", "t1") is None
        assert [block.id for block in await store.time_off("pr-a", WHOLE_DAY)] == ["t1"]

    async def test_time_off_racing_bookings_never_ends_with_both(self, store: BookingStore) -> None:
        """Bookings of one hour and a time off of that hour, all at once: either the time off or
        one booking stands, never both."""
        for round_ in range(5):
            practitioner_id = f"pr-race-{round_}"
            outcomes = await race_time_off(store, practitioner_id, bookings=6)
            assert_one_winner(outcomes, await store.busy(practitioner_id, WHOLE_DAY, NOW))


RACED_HOUR = (10 * 60, 11 * 60)


async def race_time_off(store: BookingStore, practitioner_id: str, *, bookings: int) -> list[str]:
    """`bookings` holds of the hour RACED_HOUR (each a different client and start within it) and a
    time off of that hour, started together; what each attempt ended as."""
    outcomes: list[str] = []

    async def book(number: int) -> None:
        start = RACED_HOUR[0] + number % 4 * 10
        try:
            await store.add_if_free(
                *hold(f"{practitioner_id}-{number}", start, practitioner_id=practitioner_id)
            )
        except SlotUnavailable:
            outcomes.append("unavailable")
        else:
            outcomes.append("booked")

    async def take_time_off() -> None:
        try:
            await store.add_time_off(
                time_off(f"{practitioner_id}-off", *RACED_HOUR, practitioner_id=practitioner_id), NOW
            )
        except TimeOffConflicts:
            outcomes.append("time off refused")
        else:
            outcomes.append("time off")

    async with anyio.create_task_group() as tasks:
        for number in range(bookings // 2):
            tasks.start_soon(book, number)
        tasks.start_soon(take_time_off)
        for number in range(bookings // 2, bookings):
            tasks.start_soon(book, number)
    return outcomes


def assert_one_winner(outcomes: Sequence[str], busy: Sequence[TimeRange]) -> None:
    """Exactly one of the time off and the bookings stood (`outcomes`), and the practitioner's busy
    spans of the day say the same."""
    winners = [outcome for outcome in outcomes if outcome in ("booked", "time off")]
    assert len(winners) == 1, outcomes
    assert len(busy) == 1, busy
    if winners == ["time off"]:
        assert busy == [span(*RACED_HOUR)]
