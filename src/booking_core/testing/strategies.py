"""Hypothesis strategies for the domain types, for anyone's test suite (the `testing` extra)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from attrs import evolve
from hypothesis import strategies as st

from booking_core.booking import Booking, BookingStatus
from booking_core.client import ClientDetails
from booking_core.money import Money
from booking_core.offer import Offer, Practitioner, Service
from booking_core.payment import PaymentEvent, PaymentEventKind
from booking_core.schedule import DateOverride, LocalHours, WeeklySchedule
from booking_core.timerange import TimeRange

# Zones with the interesting cases: ordinary DST, a 30-minute DST shift, a half-hour offset without
# DST, the southern hemisphere, and UTC.
TIMEZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "UTC",
)

EPOCH = datetime(2030, 1, 1, tzinfo=UTC)


def instants(start: datetime = EPOCH, days: int = 730, step_minutes: int = 5) -> st.SearchStrategy[datetime]:
    """UTC instants on a `step_minutes` grid within `days` of `start`."""
    return st.integers(0, days * 24 * 60 // step_minutes).map(
        lambda n: start + timedelta(minutes=n * step_minutes)
    )


def time_ranges(max_minutes: int = 8 * 60, step_minutes: int = 5) -> st.SearchStrategy[TimeRange]:
    return st.builds(
        lambda start, n: TimeRange.of(start, timedelta(minutes=n * step_minutes)),
        instants(step_minutes=step_minutes),
        st.integers(1, max_minutes // step_minutes),
    )


def local_hours(step_minutes: int = 15) -> st.SearchStrategy[tuple[LocalHours, ...]]:
    """Zero to three non-overlapping opening-hours blocks in one day."""
    per_day = 24 * 60 // step_minutes
    return st.lists(st.integers(0, per_day), min_size=0, max_size=6, unique=True).map(
        lambda cuts: tuple(
            LocalHours(a * step_minutes, b * step_minutes)
            for a, b in zip(sorted(cuts)[::2], sorted(cuts)[1::2], strict=False)
            if a < b
        )
    )


def weekly_schedules(timezones: tuple[str, ...] = TIMEZONES) -> st.SearchStrategy[WeeklySchedule]:
    overrides = st.lists(
        st.builds(DateOverride, st.dates(date(2030, 1, 1), date(2031, 12, 31)), local_hours()),
        max_size=4,
        unique_by=lambda o: o.day,
    )
    return st.builds(
        WeeklySchedule,
        st.sampled_from(timezones),
        st.lists(local_hours(), min_size=7, max_size=7),
        overrides,
    )


def money(currencies: tuple[str, ...] = ("EUR", "USD", "GBP", "JPY")) -> st.SearchStrategy[Money]:
    return st.builds(Money, st.integers(0, 100_000), st.sampled_from(currencies))


def _minutes(low: int, high: int, step: int = 5) -> st.SearchStrategy[timedelta]:
    return st.integers(low // step, high // step).map(lambda n: timedelta(minutes=n * step))


def offers() -> st.SearchStrategy[Offer]:
    return st.builds(
        Offer,
        session_length=_minutes(15, 120),
        price=money(),
        buffer_before=_minutes(0, 30),
        buffer_after=_minutes(0, 30),
        min_notice=_minutes(0, 48 * 60, step=60),
        horizon=st.integers(1, 120).map(lambda d: timedelta(days=d)),
        slot_step=st.none() | _minutes(5, 120),
        reminder_offsets=st.lists(_minutes(5, 72 * 60), max_size=3).map(tuple),
    )


_IDS = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
_NAMES = st.text(st.characters(categories=("L", "N", "Zs")), min_size=1, max_size=40).filter(str.strip)


def services() -> st.SearchStrategy[Service]:
    """Services with or without each of their overrides (free ones included: `money` draws 0)."""
    return st.builds(
        Service,
        id=_IDS,
        name=_NAMES,
        length=_minutes(5, 180),
        price=money(),
        buffer_before=st.none() | _minutes(0, 30),
        buffer_after=st.none() | _minutes(0, 30),
        min_notice=st.none() | _minutes(0, 48 * 60, step=60),
        slot_step=st.none() | _minutes(5, 120),
        hold_duration=st.none() | _minutes(30, 24 * 60, step=30),
        location=st.none() | st.sampled_from(["Praxis, Hauptstr. 1, Berlin", "https://meet.example.com/j"]),
    )


def practitioners() -> st.SearchStrategy[Practitioner]:
    """Practitioners listing no services (the offer's one) or up to three."""
    return st.builds(
        Practitioner,
        id=_IDS,
        name=_NAMES,
        offer=offers(),
        schedule=weekly_schedules(),
        services=st.lists(services(), max_size=3, unique_by=lambda service: service.id).map(tuple),
    )


def client_details() -> st.SearchStrategy[ClientDetails]:
    """Valid, already normalised client details."""
    return st.builds(
        ClientDetails,
        name=st.sampled_from(["Ann Example", "Jürgen Groß", "李小龍", "Zoë O'Brien"]),
        email=st.from_regex(r"[a-z]{1,10}@example\.(com|org)", fullmatch=True),
        phone=st.sampled_from(["+493012345678", "+12025550123", "+61255501234", "+919876543210"]),
    )


def bookings(
    practitioner: Practitioner | None = None, statuses: tuple[BookingStatus, ...] = tuple(BookingStatus)
) -> st.SearchStrategy[Booking]:
    """Bookings in any of `statuses`, with fields consistent with their status (payment references
    once paid, refund fields once refunded)."""
    owner = st.just(practitioner) if practitioner is not None else practitioners()

    @st.composite
    def build(draw: st.DrawFn) -> Booking:
        p = draw(owner)
        service = draw(st.sampled_from(p.offered_services))
        offer = p.offer_for(service)
        start = draw(instants(step_minutes=15))
        slot = TimeRange.of(start, offer.session_length)
        created = start - draw(_minutes(60, 30 * 24 * 60, step=60))
        booking_id = draw(st.from_regex(r"[A-Za-z0-9_-]{22}", fullmatch=True))
        booking, _ = Booking.hold(
            booking_id=booking_id,
            practitioner_id=p.id,
            slot=slot,
            occupied=offer.occupied(slot),
            client=draw(client_details()),
            client_timezone=draw(st.sampled_from(TIMEZONES)),
            price=offer.price,
            hold_expires_at=created + offer.hold_duration,
            cancel_token=draw(st.text(min_size=16, max_size=64)),
            now=created,
            service_id=service.id,
            service_name=service.name,
        )
        status = draw(st.sampled_from(statuses))
        paid = status not in (BookingStatus.PENDING_PAYMENT, BookingStatus.EXPIRED) and draw(st.booleans())
        changes: dict[str, object] = {"status": status, "checkout_session_id": f"cs_test_{booking_id}"}
        if paid or status in (BookingStatus.CONFIRMED, BookingStatus.REFUND_DUE, BookingStatus.REFUNDED):
            changes |= {"amount_paid": booking.price, "payment_intent_id": f"pi_test_{booking_id}"}
        if status in (BookingStatus.REFUND_DUE, BookingStatus.REFUNDED):
            changes["refund_owed"] = booking.price
        if status is BookingStatus.REFUNDED:
            changes |= {"refund_id": f"re_test_{booking_id}", "amount_refunded": booking.price}
        return evolve(booking, **changes)  # type: ignore[arg-type]

    return build()


def payment_event_sequences(booking: Booking, session_id: str) -> st.SearchStrategy[list[PaymentEvent]]:
    """What a provider may deliver for one checkout session: some of its events, in any order,
    some of them twice (as webhooks arrive)."""
    paid = PaymentEvent(
        id=f"evt_paid_{session_id}",
        kind=PaymentEventKind.CHECKOUT_COMPLETED,
        booking_id=booking.id,
        checkout_session_id=session_id,
        payment_intent_id=f"pi_{session_id}",
        paid=True,
        amount=booking.price,
    )
    possible = [
        paid,
        evolve(paid, id=f"evt_async_{session_id}", kind=PaymentEventKind.ASYNC_PAYMENT_SUCCEEDED),
        evolve(paid, id=f"evt_expired_{session_id}", kind=PaymentEventKind.CHECKOUT_EXPIRED, paid=False),
        evolve(paid, id=f"evt_other_{session_id}", kind=PaymentEventKind.OTHER, paid=False),
    ]
    return st.lists(st.sampled_from(possible), max_size=8)
