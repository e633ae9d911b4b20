"""The practitioner's time off through the service: what may be taken, who hears of it, and that
availability leaves it out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking_core import (
    MAX_TIME_OFF_NOTE,
    InvalidInput,
    NotFound,
    SlotUnavailable,
    TimeOffConflicts,
    TimeRange,
    UnknownPractitioner,
)

from .fixtures import MONDAY, World, request

pytestmark = pytest.mark.anyio
TUESDAY = MONDAY.replace(hour=0) + timedelta(days=1)  # 09:00-12:00 and 13:00-15:00 Berlin: 8-11, 12-14 UTC


def hours(start: int, end: int) -> TimeRange:
    return TimeRange(TUESDAY + timedelta(hours=start), TUESDAY + timedelta(hours=end))


async def test_time_off_takes_its_slots_out_of_availability() -> None:
    world = World()
    before = await world.service.list_availability("jane", hours(0, 24))
    await world.service.add_time_off("jane", hours(9, 12), note="dentist")
    after = await world.service.list_availability("jane", hours(0, 24))
    assert [slot.start.hour for slot in before.slots] == [8, 9, 10, 12, 13]
    # 8:00 with its 10-minute buffer after ends where the time off starts: still offered
    assert [slot.start.hour for slot in after.slots] == [8, 12, 13]


async def test_a_slot_in_time_off_cannot_be_booked() -> None:
    world = World()
    await world.service.add_time_off("jane", hours(9, 12))
    with pytest.raises(SlotUnavailable):
        await world.service.request_booking(request(TUESDAY + timedelta(hours=10)))


async def test_time_off_over_a_booking_is_refused_until_it_is_cancelled() -> None:
    world = World()
    held = await world.service.request_booking(request(TUESDAY + timedelta(hours=10)))
    with pytest.raises(TimeOffConflicts) as refused:
        await world.service.add_time_off("jane", hours(0, 24))
    assert refused.value.booking_ids == (held.booking.id,)
    assert refused.value.code == "time_off_conflicts"
    await world.service.cancel_for_practitioner(held.booking.id, "ill")
    taken = await world.service.add_time_off("jane", hours(0, 24))
    assert await world.service.upcoming_time_off("jane") == [taken]


async def test_what_may_be_taken() -> None:
    world = World()
    with pytest.raises(InvalidInput) as refused:
        await world.service.add_time_off(
            "jane", TimeRange(MONDAY - timedelta(hours=2), MONDAY), note="x" * (MAX_TIME_OFF_NOTE + 1)
        )
    assert set(refused.value.fields) == {"end", "note"}
    with pytest.raises(UnknownPractitioner):
        await world.service.add_time_off("nobody", hours(9, 12))
    assert await world.service.upcoming_time_off("jane") == []


async def test_listeners_hear_of_each_change_and_upcoming_lists_what_is_not_over() -> None:
    world = World()
    started = await world.service.add_time_off(
        "jane", TimeRange(MONDAY - timedelta(hours=1), MONDAY + timedelta(hours=1))
    )
    later = await world.service.add_time_off("jane", hours(9, 12), note="dentist")
    assert later.note == "dentist" and later.created_at == MONDAY
    assert await world.service.upcoming_time_off("jane") == [started, later]
    world.clock.advance(timedelta(hours=1))
    assert await world.service.upcoming_time_off("jane") == [later]
    assert await world.service.remove_time_off("jane", later.id) == later
    assert world.notifier.time_off_changes == [started, later, later]


async def test_only_the_practitioners_own_time_off_is_removed() -> None:
    world = World()
    taken = await world.service.add_time_off("jane", hours(9, 12))
    with pytest.raises(NotFound):
        await world.service.remove_time_off("sam", taken.id)
    with pytest.raises(NotFound):
        await world.service.remove_time_off("jane", "missing")
    assert await world.service.upcoming_time_off("jane") == [taken]
