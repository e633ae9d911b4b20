"""A booking service wired to a payment gateway, behind a tiny app that mounts the payment routes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from attrs import define, field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from booking_adapters.memory import (
    ManualClock,
    MemoryBookingStore,
    MemoryDirectory,
    RecordingNotifier,
    StaticSlotsSource,
)
from booking_adapters.system import SecureIds
from booking_core import (
    Booking,
    BookingError,
    BookingHold,
    BookingRequest,
    BookingService,
    CancellationPolicy,
    InvalidPaymentEvent,
    InvalidSignature,
    Money,
    NotFound,
    Offer,
    PaymentGateway,
    Practitioner,
    ProviderError,
    TimeRange,
    WeeklySchedule,
)
from booking_web import test_payments, webhooks
from booking_web.csrf import CsrfGuard

PRICE = Money(9000, "EUR")
PUBLIC_BASE_URL = "http://booking.test"
WEBHOOK_SECRET = "whsec_fake_payments_tests"
SECRET_KEY = "sk_test_fake_payments_tests"


def tutor() -> Practitioner:
    offer = Offer(
        session_length=timedelta(minutes=50),
        price=PRICE,
        cancellation=CancellationPolicy(timedelta(hours=24), late_refund_percent=0),
    )
    return Practitioner("ann-tutor", "Ann Tutor", offer, WeeklySchedule("Europe/Berlin", {}))


def _status(error: BookingError) -> int:
    if isinstance(error, InvalidSignature | InvalidPaymentEvent):
        return 400
    if isinstance(error, NotFound):
        return 404
    return 503 if isinstance(error, ProviderError) else 409


async def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BookingError)
    return JSONResponse({"error": {"code": error.code, "message": error.message}}, _status(error))


@define
class PaymentWorld:
    """Real wall-clock time (Stripe's expiry rules and signature tolerance use it), frozen per test."""

    gateway: PaymentGateway
    clock: ManualClock = field(factory=lambda: ManualClock(datetime.now(UTC).replace(microsecond=0)))
    store: MemoryBookingStore = field(factory=MemoryBookingStore)
    service: BookingService = field(init=False)
    app: Starlette = field(init=False)
    slots: list[TimeRange] = field(init=False)

    def __attrs_post_init__(self) -> None:
        start = self.clock.now().replace(minute=0, second=0) + timedelta(days=3)
        self.slots = [TimeRange.of(start + timedelta(hours=h), timedelta(minutes=50)) for h in range(4)]
        practitioner = tutor()
        self.service = BookingService(
            MemoryDirectory.of([practitioner]),
            self.store,
            StaticSlotsSource({practitioner.id: [s.start for s in self.slots]}),
            self.gateway,
            RecordingNotifier(),
            self.clock,
            SecureIds(b"payments-tests"),  # random ids: worlds may share one fake Stripe
        )
        self.app = Starlette(
            routes=[*webhooks.routes, *test_payments.routes],
            exception_handlers={BookingError: _domain_error},
        )
        self.app.state.booking = self.service
        self.app.state.csrf = CsrfGuard(
            "payments-tests", public_base_url=PUBLIC_BASE_URL
        )  # Pay's origin check

    async def book(self, slot: int = 0, email: str = "client@example.com") -> BookingHold:
        return await self.service.request_booking(
            BookingRequest("ann-tutor", self.slots[slot].start, "Client Example", email, "+49 30 1234567")
        )

    async def booking(self, booking_id: str) -> Booking:
        return await self.service.booking(booking_id)

    def client(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL)
