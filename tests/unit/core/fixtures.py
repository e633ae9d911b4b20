"""A booking service over the in-memory fakes, for the core's unit and property tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from attrs import define, field

from booking_adapters.memory import (
    FakePaymentGateway,
    ManualClock,
    MemoryBookingStore,
    MemoryDirectory,
    RecordingNotifier,
    SequentialIds,
)
from booking_core import (
    BookingRequest,
    BookingService,
    CancellationPolicy,
    LocalHours,
    Money,
    Offer,
    Practitioner,
    ScheduleSource,
    WeeklySchedule,
)

MONDAY = datetime(2030, 1, 7, 6, 0, tzinfo=UTC)


def practitioner(pid: str = "jane", tz: str = "Europe/Berlin", **offer: object) -> Practitioner:
    every_day = [[LocalHours.parse("09:00-12:00"), LocalHours.parse("13:00-15:00")]] * 7
    defaults: dict[str, object] = {
        "session_length": timedelta(minutes=50),
        "price": Money(9000, "EUR"),
        "buffer_after": timedelta(minutes=10),
        "cancellation": CancellationPolicy(timedelta(hours=24), late_refund_percent=50),
    }
    return Practitioner(pid, pid.title(), Offer(**(defaults | offer)), WeeklySchedule(tz, every_day))  # type: ignore[arg-type]


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


def request(
    start: datetime, pid: str = "jane", key: str | None = None, service: str | None = None
) -> BookingRequest:
    return BookingRequest(
        pid,
        start,
        "Ann Example",
        "ann@example.com",
        "+49 30 1234567",
        idempotency_key=key,
        service_id=service,
    )
