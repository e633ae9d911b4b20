"""Moving a booking through the service (booking_core.rescheduling): by the client with their link,
within the practitioner's policy, to a start their calendar offers; by the practitioner to any free
time still to come. The store decides whether the time is free."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from attrs import evolve

from booking_core import (
    CLIENT_MOVED,
    PRACTITIONER_MOVED,
    Booking,
    BookingLimitReached,
    BookingLimits,
    BookingStatus,
    InvalidCancelToken,
    InvalidInput,
    Money,
    RescheduleNotAllowed,
    SlotUnavailable,
    TimeRange,
    Trigger,
)

from .fixtures import MONDAY, World, practitioner, request

pytestmark = pytest.mark.anyio
WEDNESDAY = MONDAY + timedelta(days=2)  # far beyond the 24 hours' notice (the full-refund notice)
DAY = timedelta(days=1)


async def _slots(world: World, day: datetime = WEDNESDAY) -> list[TimeRange]:
    return list((await world.service.list_availability("jane", TimeRange.of(day, DAY))).slots)


async def _paid(world: World, start: datetime) -> tuple[Booking, str]:
    hold = await world.service.request_booking(request(start))
    await world.service.apply_payment_event(world.gateway.pay(hold.booking.checkout_session_id))
    return await world.service.booking(hold.booking.id), hold.cancel_token


async def test_the_client_moves_a_paid_booking_to_a_free_offered_time() -> None:
    world = World()
    first, second, *_ = await _slots(world)
    booking, token = await _paid(world, first.start)
    moved = await world.service.reschedule_booking(booking.id, token, second.start)
    assert (moved.id, moved.slot, moved.status) == (booking.id, second, BookingStatus.CONFIRMED)
    assert (moved.amount_paid, moved.payment_intent_id) == (booking.amount_paid, booking.payment_intent_id)
    assert moved.reschedule_count == 1 and await world.service.booking(booking.id) == moved
    offered = await _slots(world)
    assert first in offered and second not in offered  # the old time is free for others at once
    heard, event = world.notifier.changes[-1]
    assert heard == moved and event.trigger is Trigger.RESCHEDULED
    assert (event.moved_from, event.moved_to, event.reason) == (first, second, CLIENT_MOVED)
    assert [e.trigger for e in await world.store.history(booking.id)][-1] is Trigger.RESCHEDULED


async def test_a_wrong_token_moves_nothing() -> None:
    world = World()
    first, second, *_ = await _slots(world)
    booking, _token = await _paid(world, first.start)
    with pytest.raises(InvalidCancelToken):
        await world.service.reschedule_booking(booking.id, "forged", second.start)
    assert await world.service.booking(booking.id) == booking


async def test_a_start_that_is_not_offered_is_refused_naming_start() -> None:
    world = World()
    first, *_ = await _slots(world)
    booking, token = await _paid(world, first.start)
    evening = WEDNESDAY.replace(hour=19)  # outside the schedule
    for start in (first.start + timedelta(minutes=7), evening, first.start.replace(tzinfo=None)):
        with pytest.raises(InvalidInput) as refused:
            await world.service.reschedule_booking(booking.id, token, start)
        assert set(refused.value.fields) == {"start"}
    too_far = (await world.service.practitioner("jane")).offer.horizon + timedelta(days=1)
    with pytest.raises(InvalidInput):
        await world.service.reschedule_booking(booking.id, token, first.start + too_far)
    assert await world.service.booking(booking.id) == booking


async def test_a_taken_time_is_refused_and_both_keep_theirs() -> None:
    world = World()
    first, second, *_ = await _slots(world)
    booking, token = await _paid(world, first.start)
    other, _ = await _paid(world, second.start)
    with pytest.raises(SlotUnavailable):
        await world.service.reschedule_booking(booking.id, token, second.start)
    assert await world.service.booking(booking.id) == booking
    assert await world.service.booking(other.id) == other


async def test_the_client_gives_notice_and_moves_so_often_the_practitioner_neither() -> None:
    world = World()
    first, second, third, *_ = await _slots(world)
    booking, token = await _paid(world, first.start)
    await world.service.reschedule_booking(booking.id, token, second.start)
    await world.service.reschedule_booking(booking.id, token, third.start)
    with pytest.raises(RescheduleNotAllowed, match="2 times"):
        await world.service.reschedule_booking(booking.id, token, first.start)
    world.clock.set(third.start - timedelta(hours=23))
    assert (await world.service.booking(booking.id)).slot == third
    moved = await world.service.reschedule_for_practitioner(booking.id, first.start)
    assert (moved.slot, moved.reschedule_count) == (first, 3)


async def test_a_move_by_less_than_the_length_overlaps_only_itself() -> None:
    world = World(practitioners=[practitioner(slot_step=timedelta(minutes=15))])
    first, second, *_ = await _slots(world)
    assert second.start - first.start < first.duration
    booking, token = await _paid(world, first.start)
    assert (await world.service.reschedule_booking(booking.id, token, second.start)).slot == second


async def test_a_held_booking_moves_and_stays_held() -> None:
    world = World()
    first, second, *_ = await _slots(world)
    hold = await world.service.request_booking(request(first.start))
    moved = await world.service.reschedule_booking(hold.booking.id, hold.cancel_token, second.start)
    assert (moved.status, moved.hold_expires_at, moved.slot) == (
        BookingStatus.PENDING_PAYMENT,
        hold.booking.hold_expires_at,
        second,
    )
    world.clock.set(hold.booking.hold_expires_at)
    with pytest.raises(RescheduleNotAllowed):  # lapsed: no longer the client's to move
        await world.service.reschedule_booking(hold.booking.id, hold.cancel_token, first.start)


async def test_a_move_to_another_day_is_held_to_its_limit_within_the_day_is_not() -> None:
    world = World(practitioners=[evolve(practitioner(), limits=BookingLimits(per_day=1))])
    wednesday, later_on_wednesday, *_ = await _slots(world)
    thursday, *_ = await _slots(world, WEDNESDAY + DAY)
    booking, token = await _paid(world, wednesday.start)
    await _paid(world, thursday.start)
    with pytest.raises(BookingLimitReached):
        await world.service.reschedule_for_practitioner(booking.id, thursday.start + timedelta(hours=1))
    moved = await world.service.reschedule_booking(booking.id, token, later_on_wednesday.start)
    assert moved.slot == later_on_wednesday


async def test_the_practitioner_moves_to_any_free_time_still_to_come() -> None:
    world = World()
    first, second, *_ = await _slots(world)
    booking, _token = await _paid(world, first.start)
    other, _ = await _paid(world, second.start)
    evening = WEDNESDAY.replace(hour=19, minute=5)  # outside their schedule: theirs to agree
    moved = await world.service.reschedule_for_practitioner(booking.id, evening, "  sick child, sorry  ")
    assert moved.slot == TimeRange.of(evening, first.duration)
    assert world.notifier.changes[-1][1].reason == "sick child, sorry"
    with pytest.raises(SlotUnavailable):
        await world.service.reschedule_for_practitioner(booking.id, second.start)
    with pytest.raises(InvalidInput) as refused:
        await world.service.reschedule_for_practitioner(booking.id, world.clock.now())
    assert set(refused.value.fields) == {"start"}
    with pytest.raises(InvalidInput) as refused:
        await world.service.reschedule_for_practitioner(booking.id, first.start, "x" * 501)
    assert set(refused.value.fields) == {"reason"}
    back = await world.service.reschedule_for_practitioner(booking.id, first.start, " ")
    assert back.slot == first and world.notifier.changes[-1][1].reason == PRACTITIONER_MOVED
    assert await world.service.booking(other.id) == other


async def test_a_cancelled_or_started_session_cannot_move() -> None:
    world = World()
    first, second, *_ = await _slots(world)
    booking, token = await _paid(world, first.start)
    world.clock.set(first.start)
    with pytest.raises(RescheduleNotAllowed, match="started"):
        await world.service.reschedule_for_practitioner(booking.id, second.start)
    world.clock.set(MONDAY)
    await world.service.cancel_booking(booking.id, token)
    with pytest.raises(RescheduleNotAllowed, match="cancelled"):
        await world.service.reschedule_booking(booking.id, token, second.start)
    assert (await world.service.booking(booking.id)).amount_refunded == Money(9000, "EUR")
