"""Availability over 90 days with 2,000 existing bookings (issue 2's target: median under 2 ms).

Run: make bench   (or .venv/bin/pytest bench/test_core_availability.py --benchmark-only)
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest

from booking_adapters.memory import (
    FakePaymentGateway,
    ManualClock,
    MemoryBookingStore,
    MemoryDirectory,
    RecordingNotifier,
    SequentialIds,
)
from booking_core import (
    AvailabilitySourceName,
    Booking,
    BookingService,
    CandidateSlots,
    ClientDetails,
    LocalHours,
    Money,
    Offer,
    Practitioner,
    ScheduleSource,
    TimeRange,
    WeeklySchedule,
    free_slots,
    slot_grid,
    slot_starts,
)

NOW = datetime(2030, 1, 7, 6, 0, tzinfo=UTC)
WINDOW = TimeRange.of(NOW, timedelta(days=90))
PRACTITIONER = Practitioner(
    "busy-coach",
    "Busy Coach",
    Offer(
        session_length=timedelta(minutes=25),
        price=Money(5000, "EUR"),
        buffer_after=timedelta(minutes=5),
        horizon=timedelta(days=120),
    ),
    # 24 half-hour slots a day: 90 days hold about 2,160 candidates, room for 2,000 bookings
    WeeklySchedule("Europe/Berlin", [[LocalHours.parse("08:00-20:00")]] * 7),
)


def _bookings(count: int) -> list[Booking]:
    """`count` non-overlapping live bookings spread over the window."""
    offer = PRACTITIONER.offer
    grid = slot_grid(PRACTITIONER.schedule, WINDOW, offer.session_length, offer.step)  # the candidates
    # The grid's step is session plus buffer, so any choice of its slots is free of overlaps.
    chosen = random.Random(7).sample(grid, count)
    client = ClientDetails("Bench", "bench@example.com", "+493012345678")
    bookings = []
    for i, slot in enumerate(sorted(chosen)):
        booking, _ = Booking.hold(
            booking_id=f"b{i}",
            practitioner_id=PRACTITIONER.id,
            slot=slot,
            occupied=offer.occupied(slot),
            client=client,
            client_timezone="Europe/Berlin",
            price=offer.price,
            hold_expires_at=NOW + timedelta(days=365),
            cancel_token=f"t{i}",
            now=NOW,
        )
        bookings.append(booking)
    return bookings


BOOKINGS = _bookings(2000)


def test_free_slots_90_days_2000_bookings(benchmark: pytest.FixtureRequest) -> None:
    """The pure computation: schedule grid plus the sweep."""
    busy = [b.occupied for b in BOOKINGS]
    offer = PRACTITIONER.offer

    def compute() -> list[TimeRange]:
        starts = slot_starts(PRACTITIONER.schedule, WINDOW, offer.session_length, offer.step)
        candidates = CandidateSlots(tuple(starts), offer.session_length, AvailabilitySourceName.SCHEDULE)
        return free_slots(candidates, busy, offer, WINDOW, NOW)

    free = benchmark(compute)
    assert len(BOOKINGS) == 2000
    assert free
    assert not any(offer.occupied(s).overlaps(b) for s in free[:50] for b in busy)


def test_list_availability_use_case_90_days_2000_bookings(benchmark: pytest.FixtureRequest) -> None:
    """The whole use case over the in-memory store (directory, source, busy look-up, sweep)."""
    store = MemoryBookingStore()
    for booking in BOOKINGS:
        store._bookings[booking.id] = booking  # seeded directly: the bench measures reading
    service = BookingService(
        MemoryDirectory.of([PRACTITIONER]),
        store,
        ScheduleSource(),
        FakePaymentGateway(),
        RecordingNotifier(),
        ManualClock(NOW),
        SequentialIds(),
        max_window=timedelta(days=90),
    )
    loop = asyncio.new_event_loop()
    try:
        result = benchmark(
            lambda: loop.run_until_complete(service.list_availability(PRACTITIONER.id, WINDOW))
        )
    finally:
        loop.close()
    assert result.slots
