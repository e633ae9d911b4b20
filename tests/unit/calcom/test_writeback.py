"""The "calcom" outbox channel: confirmed bookings written to the fake, outages, conflicts, moves,
cancels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from attrs import define

from booking_adapters.calcom import Calcom, SlotTakenPolicy
from booking_adapters.memory import (
    FakePaymentGateway,
    ManualClock,
    MemoryBookingStore,
    MemoryDirectory,
    RecordingNotifier,
    SequentialIds,
)
from booking_adapters.testing.fake_calcom import FakeCalcom, FakeCalcomServer
from booking_core import (
    AvailabilityProviderError,
    Booking,
    BookingHold,
    BookingRequest,
    BookingService,
    BookingStatus,
    OutboxRelay,
    ScheduleSource,
    TimeRange,
)
from tests.contract.availability_fixtures import (
    EVENT_TYPE_ID,
    MONDAY,
    calcom_on,
    fake_calcom,
    fast_settings,
    practitioner,
)

pytestmark = pytest.mark.anyio
SLOT_START = MONDAY + timedelta(days=1, hours=8)  # Tuesday 09:00 Berlin
LATER = SLOT_START + timedelta(hours=2)  # Tuesday 11:00 Berlin


@define
class World:
    fake: FakeCalcom
    server: FakeCalcomServer
    calcom: Calcom
    service: BookingService
    store: MemoryBookingStore
    payments: FakePaymentGateway
    clock: ManualClock
    relay: OutboxRelay

    async def hold(self) -> BookingHold:
        request = BookingRequest(
            "ada", SLOT_START, "Ann Client", "ann@example.com", "+49 30 1234567", "Europe/Paris"
        )
        return await self.service.request_booking(request)

    async def pay(self, hold: BookingHold) -> Booking:
        assert hold.booking.checkout_session_id
        await self.service.apply_payment_event(self.payments.pay(hold.booking.checkout_session_id))
        return await self.service.booking(hold.booking.id)

    async def confirmed(self) -> Booking:
        return await self.pay(await self.hold())

    async def move(self, booking: Booking, start: datetime) -> Booking:
        """Move the booking to `start` as its practitioner."""
        return await self.service.reschedule_for_practitioner(booking.id, start)


async def open_world(slot_taken: SlotTakenPolicy = SlotTakenPolicy.CANCEL_AND_REFUND) -> AsyncIterator[World]:
    fake = fake_calcom()
    server = FakeCalcomServer(fake)
    server.up()
    try:
        settings = fast_settings(server.url, slot_taken=slot_taken)
        async with calcom_on(fake, settings, over_network=True) as calcom:
            store, payments, clock = MemoryBookingStore(), FakePaymentGateway(), ManualClock()
            service = BookingService(
                MemoryDirectory.of([practitioner()]),
                store,
                calcom.source(ScheduleSource()),
                payments,
                RecordingNotifier(),
                clock,
                SequentialIds(),
            )
            writeback = calcom.channel(
                store=store, directory=service.directory, clock=clock, cancellations=service
            )
            relay = OutboxRelay(store, [writeback], clock)
            await relay.run_once()  # the channel starts here: later events are its to deliver
            yield World(fake, server, calcom, service, store, payments, clock, relay)
    finally:
        server.down()


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async for opened in open_world():
        yield opened


async def test_a_confirmed_booking_appears_in_cal_com_with_its_uid_kept(world: World) -> None:
    booking = await world.confirmed()

    report = await world.relay.run_once()

    assert report.failed == 0
    (created,) = world.fake.live_bookings()
    assert created["metadata"] == {"bookingId": booking.id}
    assert created["start"] == "2030-01-08T08:00:00.000+00:00"
    assert created["attendees"][0]["email"] == "ann@example.com"
    assert (await world.service.booking(booking.id)).calendar_uid == created["uid"]
    assert await world.relay.run_once() == type(report)()  # nothing left, nothing created twice
    assert len(world.fake.bookings) == 1


async def test_a_booking_confirmed_while_cal_com_was_down_appears_once_it_is_back(world: World) -> None:
    booking = await world.confirmed()
    world.server.down()

    down = await world.relay.run_once()
    (failure,) = await world.store.failures("calcom")

    world.server.up()
    world.clock.advance(timedelta(minutes=1))
    back = await world.relay.run_once()

    assert (down.failed, back.delivered) == (1, 1)
    assert failure.booking_id == booking.id
    assert "not answering" in failure.last_error
    (created,) = world.fake.live_bookings()
    assert created["metadata"] == {"bookingId": booking.id}
    assert await world.store.failures("calcom") == []


async def test_a_slot_taken_in_cal_com_meanwhile_ends_cancelled_and_refunded_here(world: World) -> None:
    hold = await world.hold()
    world.fake.book_directly(EVENT_TYPE_ID, SLOT_START)  # the practitioner's own calendar takes it
    booking = await world.pay(hold)
    assert booking.status is BookingStatus.CONFIRMED

    await world.relay.run_once()

    after = await world.service.booking(booking.id)
    assert after.status is BookingStatus.CANCELLED
    assert after.refund_id is not None
    assert [refund.amount for refund in world.payments.refunds.values()] == [booking.price]
    assert after.calendar_uid is None
    assert [b["metadata"] for b in world.fake.live_bookings()] == [{}]  # only the practitioner's own
    history = [event.reason for event in await world.store.history(booking.id)]
    assert "The practitioner's calendar has another appointment at this time." in history


async def test_with_the_flag_policy_a_conflict_stays_confirmed_and_visible() -> None:
    async for world in open_world(SlotTakenPolicy.FLAG):
        hold = await world.hold()
        world.fake.book_directly(EVENT_TYPE_ID, SLOT_START)
        booking = await world.pay(hold)

        report = await world.relay.run_once()

        assert report.gave_up == 1
        assert (await world.service.booking(booking.id)).status is BookingStatus.CONFIRMED
        (failure,) = await world.store.failures("calcom")
        assert failure.next_attempt_at is None
        assert "resolve it by hand" in failure.last_error


async def test_our_own_earlier_write_is_recognised_not_mistaken_for_a_conflict(world: World) -> None:
    booking = await world.confirmed()
    # an earlier attempt created it in Cal.com, but its answer was lost
    uid = world.fake.book_directly(EVENT_TYPE_ID, SLOT_START, {"bookingId": booking.id})

    await world.relay.run_once()

    after = await world.service.booking(booking.id)
    assert (after.status, after.calendar_uid) == (BookingStatus.CONFIRMED, uid)
    assert len(world.fake.bookings) == 1


async def test_a_booking_cancelled_here_is_cancelled_in_cal_com(world: World) -> None:
    hold = await world.hold()
    await world.pay(hold)
    await world.relay.run_once()

    await world.service.cancel_booking(hold.booking.id, hold.cancel_token)
    await world.relay.run_once()

    (in_calcom,) = world.fake.bookings.values()
    assert in_calcom["status"] == "cancelled"
    assert await world.store.failures("calcom") == []


async def test_a_late_retry_never_creates_a_booking_cancelled_here_by_now(world: World) -> None:
    hold = await world.hold()
    await world.pay(hold)
    world.server.down()
    await world.relay.run_once()  # the confirmation fails and waits for a retry
    await world.service.cancel_booking(hold.booking.id, hold.cancel_token)

    world.server.up()
    world.clock.advance(timedelta(hours=1))
    report = await world.relay.run_once()

    assert report.failed == 0
    assert world.fake.bookings == {}
    assert world.fake.calls["/v2/bookings"] == 0


async def test_requesting_a_booking_while_cal_com_is_down_is_refused_not_risked(world: World) -> None:
    world.server.down()

    with pytest.raises(AvailabilityProviderError, match="cannot confirm this time"):
        await world.hold()
    assert world.store.all_bookings() == []


async def test_a_move_here_moves_the_cal_com_booking_and_keeps_the_uid_it_then_has(world: World) -> None:
    booking = await world.confirmed()
    await world.relay.run_once()
    old_uid = (await world.service.booking(booking.id)).calendar_uid
    await world.move(booking, LATER)

    report = await world.relay.run_once()

    assert report.failed == 0
    (live,) = world.fake.live_bookings()
    assert live["start"] == "2030-01-08T10:00:00.000+00:00"
    assert (live["rescheduledFromUid"], live["metadata"]) == (old_uid, {"bookingId": booking.id})
    assert (await world.service.booking(booking.id)).calendar_uid == live["uid"] != old_uid
    assert world.fake.calls[f"/v2/bookings/{old_uid}/reschedule"] == 1


async def test_a_client_moves_a_session_in_cal_com_half_an_hour_later(world: World) -> None:
    """Cal.com holds the session's time (written back), yet it may move into it: its move's options
    and its check ask Cal.com with `bookingUidToReschedule`, and Cal.com takes the move."""
    world.fake.event_types[EVENT_TYPE_ID].step = timedelta(minutes=30)
    hold = await world.hold()
    await world.pay(hold)
    await world.relay.run_once()
    booking = await world.service.booking(hold.booking.id)
    assert booking.calendar_uid is not None
    half_an_hour_later = TimeRange.of(SLOT_START + timedelta(minutes=30), booking.slot.duration)
    morning = TimeRange.of(SLOT_START, timedelta(hours=3))
    assert half_an_hour_later not in (await world.service.list_availability("ada", morning)).slots
    assert half_an_hour_later in (await world.service.move_options(booking, morning)).slots

    await world.service.reschedule_booking(booking.id, hold.cancel_token, half_an_hour_later.start)
    report = await world.relay.run_once()

    assert report.failed == 0
    (live,) = world.fake.live_bookings()
    assert (live["start"], live["rescheduledFromUid"]) == (
        "2030-01-08T08:30:00.000+00:00",
        booking.calendar_uid,
    )
    assert (await world.service.booking(booking.id)).calendar_uid == live["uid"]


async def test_a_repeated_move_after_a_lost_answer_follows_cal_com_not_moving_twice(world: World) -> None:
    booking = await world.confirmed()
    await world.relay.run_once()
    old_uid = (await world.service.booking(booking.id)).calendar_uid
    assert old_uid is not None
    await world.move(booking, LATER)
    # an earlier delivery moved it in Cal.com and died before recording the new uid
    new_uid = await world.calcom.client.reschedule_booking(old_uid, LATER, "Moved in the booking engine.")

    await world.relay.run_once()

    assert (await world.service.booking(booking.id)).calendar_uid == new_uid
    assert [b["uid"] for b in world.fake.live_bookings()] == [new_uid]
    assert world.fake.calls[f"/v2/bookings/{new_uid}/reschedule"] == 0


async def test_a_move_to_a_time_cal_com_has_taken_ends_cancelled_and_refunded_here(world: World) -> None:
    booking = await world.confirmed()
    await world.relay.run_once()
    world.fake.book_directly(EVENT_TYPE_ID, LATER)  # the practitioner's own calendar takes it
    await world.move(booking, LATER)

    await world.relay.run_once()  # the move is refused there: cancelled here ...
    await world.relay.run_once()  # ... and that cancellation reaches Cal.com

    after = await world.service.booking(booking.id)
    assert after.status is BookingStatus.CANCELLED
    assert [refund.amount for refund in world.payments.refunds.values()] == [booking.price]
    assert [b["metadata"] for b in world.fake.live_bookings()] == [{}]  # only the practitioner's own
    assert await world.store.failures("calcom") == []


async def test_with_the_flag_policy_a_refused_move_stays_moved_here_and_visible() -> None:
    async for world in open_world(SlotTakenPolicy.FLAG):
        booking = await world.confirmed()
        await world.relay.run_once()
        world.fake.book_directly(EVENT_TYPE_ID, LATER)
        await world.move(booking, LATER)

        report = await world.relay.run_once()

        assert report.gave_up == 1
        after = await world.service.booking(booking.id)
        assert (after.status, after.slot.start) == (BookingStatus.CONFIRMED, LATER)
        (failure,) = await world.store.failures("calcom")
        assert "resolve it by hand" in failure.last_error
