"""A booking service over the memory fakes, wired to the notification channels as production
wires them: the store is the outbox, the relay delivers it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from email.message import EmailMessage

import httpx
from attrs import define, field

from booking_adapters.mail import MailComposer, MailTransport, email_channels
from booking_adapters.memory import (
    FakePaymentGateway,
    ManualClock,
    MemoryBookingStore,
    MemoryDirectory,
    RecordingNotifier,
    SequentialIds,
)
from booking_adapters.outgoing_webhooks import webhook_channels
from booking_core import (
    Booking,
    BookingRequest,
    BookingService,
    Channel,
    LocalHours,
    Money,
    Offer,
    OutboxRelay,
    Practitioner,
    ProviderError,
    ScheduleSource,
    TimeRange,
    WeeklySchedule,
)

PUBLIC_BASE_URL = "https://book.example.org"
MAIL_FROM = "Bookings <bookings@book.example.org>"
WEBHOOK_SECRET = b"whsec_fake_notifications"
CLIENT_EMAIL = "ann@example.com"
CLIENT_PHONE = "+49 30 1234567"
PRACTITIONER_EMAIL = "jane@practice.example"

PRACTITIONER = Practitioner(
    id="jane-doe",
    name="Dr. Jane Doe",
    offer=Offer(
        session_length=timedelta(minutes=50),
        price=Money.parse("90.00", "EUR"),
        buffer_after=timedelta(minutes=10),
        min_notice=timedelta(hours=2),
    ),
    schedule=WeeklySchedule(
        "Europe/Berlin",
        {day: [LocalHours.parse("09:00-17:00")] for day in ("mon", "tue", "wed", "thu", "fri")},
    ),
    email=PRACTITIONER_EMAIL,
)


@define
class World:
    clock: ManualClock = field(factory=ManualClock)
    store: MemoryBookingStore = field(factory=MemoryBookingStore)
    directory: MemoryDirectory = field(factory=lambda: MemoryDirectory.of([PRACTITIONER]))
    gateway: FakePaymentGateway = field(factory=FakePaymentGateway)
    ids: SequentialIds = field(factory=SequentialIds)

    @property
    def service(self) -> BookingService:
        return BookingService(
            self.directory,
            self.store,
            ScheduleSource(),
            self.gateway,
            RecordingNotifier(),
            self.clock,
            self.ids,
        )

    def channels(
        self,
        transport: MailTransport,
        webhook_urls: Sequence[str] = (),
        http: httpx.AsyncClient | None = None,
    ) -> list[Channel]:
        mail = email_channels(
            store=self.store,
            directory=self.directory,
            ids=self.ids,
            transport=transport,
            composer=MailComposer(MAIL_FROM),
            public_base_url=PUBLIC_BASE_URL,
        )
        hooks = webhook_channels(webhook_urls, WEBHOOK_SECRET, self.store, self.clock, http) if http else []
        return [*mail, *hooks]

    async def relay(
        self,
        transport: MailTransport,
        webhook_urls: Sequence[str] = (),
        http: httpx.AsyncClient | None = None,
    ) -> OutboxRelay:
        """A relay whose channels are registered (a channel's first claim fixes where it starts)."""
        relay = OutboxRelay(self.store, self.channels(transport, webhook_urls, http), self.clock)
        await relay.run_once()
        return relay

    async def hold(self, nth_slot: int = 0, timezone: str = "America/New_York") -> Booking:
        """Hold the `nth_slot` free slot (8 a day: 20 is three days ahead) for the client."""
        window = TimeRange.of(self.clock.now(), timedelta(days=14))
        slots = (await self.service.list_availability(PRACTITIONER.id, window)).slots
        hold = await self.service.request_booking(
            BookingRequest(
                PRACTITIONER.id, slots[nth_slot].start, "Ann Example", CLIENT_EMAIL, CLIENT_PHONE, timezone
            )
        )
        return hold.booking

    async def pay(self, booking: Booking) -> Booking:
        assert booking.checkout_session_id is not None
        await self.service.apply_payment_event(self.gateway.pay(booking.checkout_session_id))
        return await self.service.booking(booking.id)

    async def confirmed_booking(self, nth_slot: int = 0) -> Booking:
        return await self.pay(await self.hold(nth_slot))

    async def slots(self) -> Sequence[TimeRange]:
        """The free slots of the next two weeks (8 a day)."""
        window = TimeRange.of(self.clock.now(), timedelta(days=14))
        return (await self.service.list_availability(PRACTITIONER.id, window)).slots

    async def move(self, booking: Booking, nth_slot: int) -> Booking:
        """Move `booking` to the `nth_slot` free slot, as its practitioner, giving no reason."""
        slot = (await self.slots())[nth_slot]
        self.clock.advance(timedelta(minutes=1))  # each move its own moment
        return await self.service.reschedule_for_practitioner(booking.id, slot.start)


@define
class CollectedMail:
    """A transport that keeps what it is given (and can be told to fail)."""

    sent: list[EmailMessage] = field(factory=list)
    failure: ProviderError | None = None

    async def send(self, message: EmailMessage) -> None:
        if self.failure is not None:
            raise self.failure
        self.sent.append(message)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.sent if address in str(m["To"])]
