"""A booking service over the in-memory fakes, for the core's unit and property tests."""

from __future__ import annotations

from attrs import define, field

from booking_adapters.memory import (
    FakePaymentGateway,
    ManualClock,
    MemoryBookingStore,
    MemoryDirectory,
    RecordingNotifier,
    SequentialIds,
)
from booking_core import BookingService, Practitioner, ScheduleSource
from booking_core.testing.machine import MONDAY, practitioner, request

__all__ = ["MONDAY", "World", "practitioner", "request"]


@define
class World:
    practitioners: list[Practitioner] = field(factory=lambda: [practitioner()])
    clock: ManualClock = field(factory=lambda: ManualClock(MONDAY))
    store: MemoryBookingStore = field(factory=MemoryBookingStore)
    gateway: FakePaymentGateway = field(factory=FakePaymentGateway)
    notifier: RecordingNotifier = field(factory=RecordingNotifier)
    service: BookingService = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.service = BookingService(
            MemoryDirectory.of(self.practitioners),
            self.store,
            ScheduleSource(),
            self.gateway,
            self.notifier,
            self.clock,
            SequentialIds(),
        )
