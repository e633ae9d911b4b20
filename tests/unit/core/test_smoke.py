from datetime import timedelta

import pytest

from booking_adapters.memory import (
    FakePaymentGateway,
    ManualClock,
    MemoryBookingStore,
    MemoryDirectory,
    RecordingNotifier,
    SequentialIds,
)
from booking_core import BookingRequest, BookingService, BookingStatus, ScheduleSource, TimeRange
from booking_web.demo import DEMO_PRACTITIONERS


@pytest.mark.anyio
async def test_book_pay_confirm_on_demo_practitioner() -> None:
    clock = ManualClock()
    gateway = FakePaymentGateway()
    service = BookingService(
        MemoryDirectory.of(DEMO_PRACTITIONERS),
        MemoryBookingStore(),
        ScheduleSource(),
        gateway,
        RecordingNotifier(),
        clock,
        SequentialIds(),
    )
    window = TimeRange.of(clock.now(), timedelta(days=7))
    before = await service.list_availability("jane-doe", window)
    hold = await service.request_booking(
        BookingRequest("jane-doe", before.slots[0].start, "Ann Example", "ann@example.com", "+49 30 1234567")
    )
    assert hold.booking.checkout_session_id is not None
    after = await service.list_availability("jane-doe", window)
    assert before.slots[0] not in after.slots
    await service.apply_payment_event(gateway.pay(hold.booking.checkout_session_id))
    assert (await service.booking(hold.booking.id)).status is BookingStatus.CONFIRMED
