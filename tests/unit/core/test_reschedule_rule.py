"""The move of a booking (Booking.reschedule): one transition, from and to, bound for the client only."""

from datetime import UTC, datetime, timedelta

import pytest

from booking_core import (
    Booking,
    BookingStatus,
    CancellationPolicy,
    ClientDetails,
    Money,
    Offer,
    RescheduleNotAllowed,
    ReschedulePolicy,
    TimeRange,
    Trigger,
)
from booking_core.payment import ReceivedPayment

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
LENGTH = timedelta(minutes=50)
OFFER = Offer(LENGTH, Money(9000, "EUR"), buffer_after=timedelta(minutes=10))
START = T0 + timedelta(days=3)


def _confirmed() -> Booking:
    slot = TimeRange.of(START, LENGTH)
    held, _ = Booking.hold(
        booking_id="b1",
        practitioner_id="p1",
        slot=slot,
        occupied=OFFER.occupied(slot),
        client=ClientDetails("Ann", "ann@example.com", "+493012345678"),
        client_timezone="Europe/Berlin",
        price=OFFER.price,
        hold_expires_at=T0 + timedelta(minutes=30),
        cancel_token="secret-token",
        now=T0,
    )
    paid = ReceivedPayment(OFFER.price, "pi_1", "cs_1")
    confirmed, _ = held.confirm_payment(paid, at=T0, reason="paid")
    return confirmed


def _to(hours: int) -> TimeRange:
    return TimeRange.of(START + timedelta(hours=hours), LENGTH)


def test_a_move_keeps_id_payment_and_status_and_records_from_and_to() -> None:
    booking = _confirmed()
    moved, event = booking.reschedule(
        _to(2), offer=OFFER, at=T0, reason="moved by the client", by_practitioner=False
    )
    assert event is not None and event.trigger is Trigger.RESCHEDULED
    assert (event.from_status, event.to_status) == (BookingStatus.CONFIRMED, BookingStatus.CONFIRMED)
    assert (event.moved_from, event.moved_to) == (booking.slot, _to(2))
    assert moved.id == booking.id and moved.amount_paid == booking.amount_paid
    assert moved.payment_intent_id == "pi_1" and moved.status is BookingStatus.CONFIRMED
    assert moved.slot == _to(2) and moved.occupied == OFFER.occupied(_to(2))
    assert moved.reschedule_count == 1 and moved.version == booking.version + 1


def test_moving_to_the_same_slot_changes_nothing() -> None:
    booking = _confirmed()
    assert booking.reschedule(booking.slot, offer=OFFER, at=T0, reason="", by_practitioner=False) == (
        booking,
        None,
    )


def test_the_client_must_give_notice_and_may_move_only_so_often() -> None:
    offer = Offer(LENGTH, OFFER.price, cancellation=CancellationPolicy(timedelta(hours=24)))
    booking = _confirmed()
    late = START - timedelta(hours=23)
    with pytest.raises(RescheduleNotAllowed, match="24 hours"):
        booking.reschedule(_to(2), offer=offer, at=late, reason="", by_practitioner=False)
    # the practitioner is bound by neither rule
    moved, _ = booking.reschedule(_to(2), offer=offer, at=late, reason="", by_practitioner=True)
    assert moved.slot == _to(2)

    once = Offer(LENGTH, OFFER.price, rescheduling=ReschedulePolicy(notice=timedelta(hours=1), max_moves=1))
    first, _ = booking.reschedule(_to(2), offer=once, at=late, reason="", by_practitioner=False)
    with pytest.raises(RescheduleNotAllowed, match="moved once already"):
        first.reschedule(_to(4), offer=once, at=late, reason="", by_practitioner=False)
    never = Offer(LENGTH, OFFER.price, rescheduling=ReschedulePolicy(max_moves=0))
    with pytest.raises(RescheduleNotAllowed, match="cannot be moved online"):
        booking.reschedule(_to(2), offer=never, at=T0, reason="", by_practitioner=False)
    again, _ = first.reschedule(_to(4), offer=once, at=late, reason="", by_practitioner=True)
    assert again.reschedule_count == 2


def test_a_started_or_dead_booking_cannot_move() -> None:
    booking = _confirmed()
    with pytest.raises(RescheduleNotAllowed, match="started"):
        booking.reschedule(_to(2), offer=OFFER, at=START, reason="", by_practitioner=True)
    cancelled, _ = booking.cancel_by_client(at=T0, policy=OFFER.cancellation)
    with pytest.raises(RescheduleNotAllowed, match="cancelled"):
        cancelled.reschedule(_to(2), offer=OFFER, at=T0, reason="", by_practitioner=True)
    with pytest.raises(RescheduleNotAllowed, match="same length"):
        booking.reschedule(
            TimeRange.of(START, 2 * LENGTH), offer=OFFER, at=T0, reason="", by_practitioner=True
        )
