"""Completed and no-show (issue 17 item 2): housekeeping records sessions that ended as completed;
the practitioner marks a no-show within 7 days after the end, and takes it back; late payment
events on a session that is over are still handled."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking_core import (
    ATTENDANCE_WINDOW,
    AttendanceWindowClosed,
    Booking,
    BookingStatus,
    Money,
    PaymentEvent,
    PaymentEventKind,
    PaymentOutcome,
    SessionNotHeld,
    SessionNotOver,
    Trigger,
    UnknownBooking,
)
from booking_core.attendance import Attendance
from booking_core.booking_changes import BookingChanges

from .fixtures import MONDAY, World, practitioner, request

pytestmark = pytest.mark.anyio
S, T = BookingStatus, Trigger
TUESDAY_10 = MONDAY.replace(hour=9) + timedelta(days=1)  # 10:00 Berlin


async def _confirmed(world: World, start: timedelta = timedelta()) -> Booking:
    hold = await world.service.request_booking(request(TUESDAY_10 + start))
    assert hold.booking.checkout_session_id is not None
    await world.service.apply_payment_event(world.gateway.pay(hold.booking.checkout_session_id))
    return await world.service.booking(hold.booking.id)


async def test_sessions_that_ended_are_completed_by_housekeeping_and_later_ones_are_not() -> None:
    world = World()
    early = await _confirmed(world)
    later = await _confirmed(world, timedelta(hours=1))
    world.clock.set(early.slot.end)
    assert await world.service.complete_ended_sessions() == 1
    assert (await world.service.booking(early.id)).status is S.COMPLETED
    assert (await world.service.booking(later.id)).status is S.CONFIRMED
    assert await world.service.complete_ended_sessions() == 0  # nothing left: a repeat does nothing
    history = await world.store.history(early.id)
    assert (history[-1].trigger, history[-1].from_status, history[-1].to_status) == (
        T.COMPLETED,
        S.CONFIRMED,
        S.COMPLETED,
    )
    assert [event.trigger for _, event in world.notifier.changes][-1] is T.COMPLETED


async def test_housekeeping_works_in_bounded_batches_until_every_ended_session_is_done() -> None:
    world = World()
    sessions = [await _confirmed(world, timedelta(hours=hours)) for hours in (0, 1, 4)]
    world.clock.set(sessions[-1].slot.end + timedelta(days=1))
    attendance = Attendance(BookingChanges(world.store, world.service.directory, world.notifier), world.clock)
    assert await attendance.complete_ended_sessions(batch=1, max_batches=2) == 2  # a round's bound
    assert await attendance.complete_ended_sessions(batch=1, max_batches=2) == 1  # the next goes on
    assert {(await world.service.booking(b.id)).status for b in sessions} == {S.COMPLETED}


async def test_unpaid_holds_and_cancelled_bookings_are_never_completed() -> None:
    world = World()
    hold = await world.service.request_booking(request(TUESDAY_10))
    cancelled = await _confirmed(world, timedelta(hours=1))
    await world.service.cancel_for_practitioner(cancelled.id, "ill")
    world.clock.set(TUESDAY_10 + timedelta(days=1))
    await world.service.reconcile()
    assert await world.service.complete_ended_sessions() == 0
    assert (await world.service.booking(hold.booking.id)).status is S.EXPIRED
    assert (await world.service.booking(cancelled.id)).status is S.CANCELLED


async def test_a_no_show_is_marked_from_the_end_for_seven_days_and_can_be_taken_back() -> None:
    world = World()
    booking = await _confirmed(world)
    world.clock.set(booking.slot.end - timedelta(minutes=1))
    with pytest.raises(SessionNotOver) as early:
        await world.service.mark_no_show("jane", booking.id)
    assert early.value.code == "session_not_over"
    world.clock.set(booking.slot.end)  # before housekeeping came by: confirmed -> no_show
    missed = await world.service.mark_no_show("jane", booking.id)
    assert missed.status is S.NO_SHOW
    assert await world.service.complete_ended_sessions() == 0  # housekeeping leaves a no-show alone
    assert (await world.service.mark_no_show("jane", booking.id)).version == missed.version  # a repeat
    world.clock.set(booking.slot.end + ATTENDANCE_WINDOW)
    came = await world.service.undo_no_show("jane", booking.id)
    assert came.status is S.COMPLETED
    again = await world.service.mark_no_show("jane", booking.id)  # completed -> no_show, in the window
    assert again.status is S.NO_SHOW
    world.clock.advance(timedelta(seconds=1))
    with pytest.raises(AttendanceWindowClosed) as late:
        await world.service.undo_no_show("jane", booking.id)
    assert late.value.code == "no_show_window_closed"
    triggers = [event.trigger for event in await world.store.history(booking.id)]
    assert triggers[-3:] == [T.NO_SHOW_MARKED, T.NO_SHOW_UNDONE, T.NO_SHOW_MARKED]


async def test_only_a_held_session_of_ones_own_is_marked() -> None:
    world = World(practitioners=[practitioner(), practitioner("max")])
    booking = await _confirmed(world)
    cancelled = await _confirmed(world, timedelta(hours=1))
    await world.service.cancel_for_practitioner(cancelled.id, "ill")
    world.clock.set(cancelled.slot.end)
    with pytest.raises(UnknownBooking):
        await world.service.mark_no_show("max", booking.id)
    with pytest.raises(UnknownBooking):
        await world.service.undo_no_show("max", booking.id)
    with pytest.raises(SessionNotHeld) as refused:
        await world.service.mark_no_show("jane", cancelled.id)
    assert refused.value.code == "session_not_held" and "cancelled" in refused.value.message
    with pytest.raises(SessionNotHeld):
        await world.service.undo_no_show("jane", cancelled.id)


async def test_a_completed_session_cannot_be_cancelled_or_moved_back() -> None:
    world = World()
    booking = await _confirmed(world)
    world.clock.set(booking.slot.end)
    await world.service.complete_ended_sessions()
    completed = await world.service.booking(booking.id)
    assert not completed.is_live(world.clock.now()) and not completed.is_ahead(world.clock.now())
    with pytest.raises(Exception, match="cannot take cancelled"):
        await world.service.cancel_for_practitioner(booking.id, "too late")


def _refund(booking: Booking, refunded: Money, total: Money | None) -> PaymentEvent:
    return PaymentEvent(
        f"evt_{refunded.amount}_{total}",
        PaymentEventKind.REFUNDED,
        booking.id,
        payment_intent_id=booking.payment_intent_id,
        refund_id="re_dashboard",
        refunded=refunded,
        refunded_total=total,
    )


@pytest.mark.parametrize("status", [S.COMPLETED, S.NO_SHOW])
async def test_a_refund_after_the_session_is_recorded_and_the_session_stands(status: BookingStatus) -> None:
    """A goodwill refund in the Stripe Dashboard after the session: the money record takes it, in
    part (a charge's total) or in full; nothing is called off, no refund of ours is owed."""
    world = World()
    booking = await _confirmed(world)
    world.clock.set(booking.slot.end)
    if status is S.NO_SHOW:
        await world.service.mark_no_show("jane", booking.id)
    else:
        await world.service.complete_ended_sessions()
    part = Money(3000, "EUR")
    assert (
        await world.service.apply_payment_event(_refund(booking, part, part))
        is PaymentOutcome.REFUND_RECORDED
    )
    assert await world.service.apply_payment_event(_refund(booking, part, None)) is PaymentOutcome.IGNORED
    whole = Money(9000, "EUR")
    outcome = await world.service.apply_payment_event(_refund(booking, Money(6000, "EUR"), whole))
    assert outcome is PaymentOutcome.REFUND_RECORDED
    after = await world.service.booking(booking.id)
    assert after.status is status and after.amount_refunded == whole and after.refund_owed is None
    assert await world.store.refunds_due() == []
    # the checkout's payment event delivered again is a duplicate, not a second confirmation
    assert booking.checkout_session_id is not None
    again = world.gateway.pay(booking.checkout_session_id)
    assert await world.service.apply_payment_event(again) is PaymentOutcome.DUPLICATE
    assert (await world.service.booking(booking.id)).status is status
