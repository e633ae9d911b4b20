"""The shipped strategies, used as a third party would: any delivery order of one checkout's events
ends in the same booking state."""

import asyncio
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from booking_core import BookingStatus, PaymentEventKind, TimeRange
from booking_core.testing.strategies import bookings, payment_event_sequences

from .fixtures import MONDAY, World, practitioner, request

JANE = practitioner()


@given(bookings(JANE))
def test_generated_bookings_are_consistent(booking) -> None:  # type: ignore[no-untyped-def]
    assert booking.practitioner_id == JANE.id
    assert booking.occupied == JANE.offer.occupied(booking.slot)
    if booking.status is BookingStatus.CONFIRMED:
        assert booking.amount_paid == booking.price
    if booking.status is BookingStatus.REFUNDED:
        assert booking.refund_id is not None
        assert booking.amount_refunded == booking.refund_owed


@given(st.data())
def test_any_order_of_one_sessions_events_ends_the_same(data: st.DataObject) -> None:
    async def scenario() -> None:
        world = World(practitioners=[JANE])
        slot = (
            await world.service.list_availability(JANE.id, TimeRange.of(MONDAY, timedelta(days=7)))
        ).slots[0]
        hold = await world.service.request_booking(request(slot.start))
        session = hold.booking.checkout_session_id
        assert session is not None
        events = data.draw(payment_event_sequences(hold.booking, session))
        for event in events:
            await world.service.apply_payment_event(event)
        final = await world.service.booking(hold.booking.id)
        kinds = {e.kind for e in events}
        if kinds & {PaymentEventKind.CHECKOUT_COMPLETED, PaymentEventKind.ASYNC_PAYMENT_SUCCEEDED}:
            expected = BookingStatus.CONFIRMED  # an expiry first only delays it: the slot stayed free
        elif PaymentEventKind.CHECKOUT_EXPIRED in kinds:
            expected = BookingStatus.EXPIRED
        else:
            expected = BookingStatus.PENDING_PAYMENT
        assert final.status is expected
        assert world.gateway.refunds == {}

    asyncio.run(scenario())
