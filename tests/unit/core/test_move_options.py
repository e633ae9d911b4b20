"""The times a booking may move to (`BookingService.move_options`): what a new booking could take,
except that the booking's own occupied span does not count against it, so a session moves by less
than its length (a 50-minute session half an hour later); everything else still counts."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from itertools import combinations

import pytest
from attrs import evolve
from hypothesis import given
from hypothesis import strategies as st

from booking_core import (
    Booking,
    BookingError,
    BookingLimits,
    ScheduleSource,
    TimeRange,
)

from .fixtures import MONDAY, World, practitioner, request

pytestmark = pytest.mark.anyio
WEDNESDAY = MONDAY + timedelta(days=2)  # 07:00 in Berlin, beyond the client's 24 hours' notice
DAY = timedelta(days=1)


def _quarter_hourly(limits: BookingLimits | None = None, **offer: object) -> World:
    """Jane's 50-minute sessions (10 minutes after each) start every quarter of an hour."""
    jane = practitioner(slot_step=timedelta(minutes=15), **offer)
    return World(practitioners=[evolve(jane, limits=limits) if limits else jane])


async def _slots(world: World, day: datetime = WEDNESDAY) -> list[TimeRange]:
    return list((await world.service.list_availability("jane", TimeRange.of(day, DAY))).slots)


async def _options(world: World, booking: Booking, day: datetime = WEDNESDAY) -> list[TimeRange]:
    return list((await world.service.move_options(booking, TimeRange.of(day, DAY))).slots)


async def _paid(world: World, start: datetime) -> tuple[Booking, str]:
    hold = await world.service.request_booking(request(start))
    await world.service.apply_payment_event(world.gateway.pay(hold.booking.checkout_session_id))
    return await world.service.booking(hold.booking.id), hold.cancel_token


def _at(slots: list[TimeRange], first: TimeRange, minutes: int) -> TimeRange | None:
    wanted = first.start + timedelta(minutes=minutes)
    return next((slot for slot in slots if slot.start == wanted), None)


async def test_a_session_moves_half_an_hour_later_into_its_own_time() -> None:
    world = _quarter_hourly()
    first = (await _slots(world))[0]
    booking, token = await _paid(world, first.start)
    options = await _options(world, booking)
    half_an_hour_later = _at(options, first, 30)
    assert half_an_hour_later is not None and _at(options, first, 15) is not None
    assert booking.slot not in options  # where it is is no move
    assert half_an_hour_later not in await _slots(world)  # a new booking may not take it
    assert options == [
        slot for slot in await _slots(World(practitioners=world.practitioners)) if slot != first
    ]
    moved = await world.service.reschedule_booking(booking.id, token, half_an_hour_later.start)
    assert moved.slot == half_an_hour_later
    assert _at(await _options(world, moved), first, 0) is not None  # and back again


async def test_another_booking_still_counts() -> None:
    world = _quarter_hourly()
    first = (await _slots(world))[0]
    booking, _token = await _paid(world, first.start)
    await _paid(world, first.start + timedelta(minutes=90))  # 10:30-11:20, its buffer to 11:30
    options = await _options(world, booking)
    assert _at(options, first, 30) is not None  # 09:30-10:20 and its buffer touch it
    assert _at(options, first, 45) is None and _at(options, first, 90) is None
    assert _at(options, first, 4 * 60) is not None  # the afternoon


async def test_time_off_still_counts() -> None:
    world = _quarter_hourly()
    first = (await _slots(world))[0]
    booking, _token = await _paid(world, first.start)
    await world.service.add_time_off(
        "jane", TimeRange.of(first.start + timedelta(hours=1), timedelta(hours=1))
    )
    options = await _options(world, booking)
    assert [slot for slot in options if slot.start < first.start + timedelta(hours=2)] == []


async def test_limits_count_only_where_its_old_start_did_not_count_already() -> None:
    world = _quarter_hourly(limits=BookingLimits(per_day=1))
    first = (await _slots(world))[0]
    thursday = (await _slots(world, WEDNESDAY + DAY))[0]
    booking, _token = await _paid(world, first.start)
    await _paid(world, thursday.start)
    assert await _slots(world) == []  # Wednesday is full for a new booking
    options = await _options(world, booking)
    assert _at(options, first, 30) is not None and _at(options, first, 4 * 60) is not None
    assert await _options(world, booking, WEDNESDAY + DAY) == []  # Thursday is full
    friday = await _options(world, booking, WEDNESDAY + 2 * DAY)
    assert friday == await _slots(world, WEDNESDAY + 2 * DAY) != []


async def test_minimum_notice_and_the_horizon_still_count() -> None:
    world = _quarter_hourly(min_notice=timedelta(hours=3))
    first = (await _slots(world))[0]
    booking, _token = await _paid(world, first.start + timedelta(hours=4))  # 13:00
    world.clock.set(first.start)  # 09:00: nothing before noon may be offered
    options = await _options(world, booking)
    assert options and all(slot.start >= first.start + timedelta(hours=3) for slot in options)
    horizon = (await world.service.practitioner("jane")).offer.horizon
    assert await _options(world, booking, WEDNESDAY + horizon + DAY) == []


@given(
    step=st.sampled_from([5, 10, 15, 20, 25, 30]),
    before=st.sampled_from([0, 5, 15]),
    after=st.sampled_from([0, 10, 20]),
    data=st.data(),
)
def test_a_move_to_any_start_offered_succeeds_and_overlaps_no_one(
    step: int, before: int, after: int, data: st.DataObject
) -> None:
    """Whatever else the day holds (other bookings, paid or held, and time off), each start offered
    for a booking's move is one the move takes, and no two live bookings then overlap; and exactly
    the starts a new booking could take were the booking not there are offered, but its own."""
    jane = practitioner(
        slot_step=timedelta(minutes=step),
        buffer_before=timedelta(minutes=before),
        buffer_after=timedelta(minutes=after),
    )

    async def scenario() -> None:
        world = World(practitioners=[jane])
        day = TimeRange.of(WEDNESDAY, DAY)
        grid = list((await ScheduleSource().candidate_slots(jane, day)).slots)
        booking, token = await _paid(world, data.draw(st.sampled_from(grid), "booking").start)
        for start in data.draw(st.lists(st.sampled_from(grid), max_size=4), "others"):
            try:
                hold = await world.service.request_booking(request(start.start))
            except BookingError:
                continue  # taken
            if data.draw(st.booleans(), "paid"):
                await world.service.apply_payment_event(world.gateway.pay(hold.booking.checkout_session_id))
        if data.draw(st.booleans(), "time off"):
            off = TimeRange.of(
                WEDNESDAY + timedelta(minutes=data.draw(st.integers(0, 12 * 60), "from")),
                timedelta(minutes=data.draw(st.integers(1, 180), "minutes")),
            )
            with contextlib.suppress(BookingError):  # over a booking: refused
                await world.service.add_time_off("jane", off)
        others = [
            b
            for b in await world.store.bookings_of("jane", day.widen(DAY, DAY))
            if b.is_live(world.clock.now()) and b.id != booking.id
        ]
        time_off = [block.span for block in await world.store.time_off("jane", day.widen(DAY, DAY))]
        taken = [b.occupied for b in others] + time_off
        options = await _options(world, booking)
        assert options == [
            slot
            for slot in grid
            if slot != booking.slot and not any(jane.offer.occupied(slot).overlaps(span) for span in taken)
        ]
        if not options:
            return
        target = data.draw(st.sampled_from(options), "target")
        moved = await world.service.reschedule_booking(booking.id, token, target.start)
        assert moved.slot == target
        live = [b for b in await world.store.bookings_of("jane", day) if b.is_live(world.clock.now())]
        for one, other in combinations(live, 2):
            assert not one.occupied.overlaps(other.occupied), (one.id, other.id)
        assert not any(b.occupied.overlaps(span) for b in live for span in time_off)

    asyncio.run(scenario())
