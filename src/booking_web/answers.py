"""What the JSON API answers, as attrs classes: the converter writes them (converter.py) and
/openapi.json describes them (schema.py), so the answers and their schema cannot drift. Docstrings
and field metadata are written for the API's readers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import attrs
import orjson
from attrs import field, frozen

from booking_core import (
    Availability,
    AvailabilitySourceName,
    Booking,
    BookingStatus,
    CancellationPolicy,
    Money,
    PaymentOutcome,
    Practitioner,
    Service,
    TimeOff,
    zone,
)
from booking_web.schema import keywords


@frozen
class MoneyJson:
    amount: int = field(metadata=keywords(minimum=0, description="minor units (cents)"))
    currency: str = field(metadata=keywords(pattern="^[A-Z]{3}$"))
    formatted: str = field(metadata=keywords(examples=["90.00 EUR"]))

    @classmethod
    def of(cls, money: Money) -> MoneyJson:
        return cls(money.amount, money.currency, str(money))


@frozen
class CancellationPolicyJson:
    """What a cancellation refunds: everything with enough notice, a share after."""

    full_refund_notice_hours: float = field(
        metadata=keywords(
            minimum=0,
            description="cancelling at least this long before the start refunds in full",
            examples=[24],
        )
    )
    late_refund_percent: int = field(
        metadata=keywords(
            minimum=0, maximum=100, description="the share refunded for a later cancellation", examples=[50]
        )
    )
    description: str = field(
        metadata=keywords(
            examples=[
                "Full refund if you cancel at least 24 hours before the session; after that, 50 % refund."
            ]
        )
    )

    @classmethod
    def of(cls, policy: CancellationPolicy) -> CancellationPolicyJson:
        hours = policy.full_refund_notice.total_seconds() / 3600
        return cls(int(hours) if hours.is_integer() else hours, policy.late_refund_percent, policy.in_words())


def _minutes(duration: timedelta) -> int:
    return duration // timedelta(minutes=1)


def _hours(duration: timedelta) -> float:
    return duration.total_seconds() / 3600


# Live bookings (confirmed, or held for payment) a local day / week (from Monday) takes; sent only when set.
_LIMIT_OF_PRACTITIONER = keywords(
    minimum=1, description="at most this many bookings of any service a day / week (local, weeks from Monday)"
)
_LIMIT_OF_SERVICE = keywords(minimum=1, description="at most this many bookings of this service a day / week")


@frozen
class ServiceJson:
    """One thing the practitioner offers; availability and bookings name it by `id`."""

    id: str = field(metadata=keywords(examples=["intro"]))
    name: str = field(metadata=keywords(examples=["Free intro call"]))
    minutes: int = field(metadata=keywords(minimum=1, examples=[15]))
    price: MoneyJson = field(metadata=keywords(description="0 for a free service"))
    min_notice_hours: float = field(
        metadata=keywords(minimum=0, description="it cannot be booked sooner than this ahead")
    )
    max_bookings_per_day: int | None = field(default=None, metadata=_LIMIT_OF_SERVICE)
    max_bookings_per_week: int | None = field(default=None, metadata=_LIMIT_OF_SERVICE)

    @classmethod
    def of(cls, practitioner: Practitioner, service: Service) -> ServiceJson:
        offer = practitioner.offer_for(service)
        minutes, notice = _minutes(offer.session_length), _hours(offer.min_notice)
        limits = service.limits
        return cls(
            service.id,
            service.name,
            minutes,
            MoneyJson.of(offer.price),
            notice,
            max_bookings_per_day=limits.per_day,
            max_bookings_per_week=limits.per_week,
        )


@frozen
class PractitionerJson:
    id: str
    name: str
    timezone: str = field(metadata=keywords(examples=["Europe/Berlin"]))
    session_minutes: int = field(metadata=keywords(description="of the first of `services`"))
    price: MoneyJson = field(metadata=keywords(description="of the first of `services`"))
    min_notice_hours: float = field(metadata=keywords(description="of the first of `services`"))
    horizon_days: int
    availability_source: Literal[AvailabilitySourceName.SCHEDULE, AvailabilitySourceName.CALCOM]
    cancellation_policy: CancellationPolicyJson
    services: list[ServiceJson] = field(
        metadata=keywords(
            minItems=1,
            description=(
                "what clients choose from, in the practitioner's order; with more than one, "
                "availability needs `service` and a booking `service_id`"
            ),
        )
    )
    max_bookings_per_day: int | None = field(default=None, metadata=_LIMIT_OF_PRACTITIONER)
    max_bookings_per_week: int | None = field(default=None, metadata=_LIMIT_OF_PRACTITIONER)

    @classmethod
    def of(cls, practitioner: Practitioner) -> PractitionerJson:
        services = [ServiceJson.of(practitioner, service) for service in practitioner.offered_services]
        offer = practitioner.offer
        return cls(
            id=practitioner.id,
            name=practitioner.name,
            timezone=practitioner.timezone,
            session_minutes=services[0].minutes,
            price=services[0].price,
            min_notice_hours=services[0].min_notice_hours,
            horizon_days=offer.horizon.days,
            availability_source=(
                AvailabilitySourceName.CALCOM
                if practitioner.calcom_event_type_id
                else AvailabilitySourceName.SCHEDULE
            ),
            cancellation_policy=CancellationPolicyJson.of(offer.cancellation),
            services=services,
            max_bookings_per_day=practitioner.limits.per_day,
            max_bookings_per_week=practitioner.limits.per_week,
        )


@frozen
class MeJson(PractitionerJson):
    """The signed-in practitioner: their public answer and the e-mail address they sign in with."""

    email: str | None = field(kw_only=True, metadata=keywords(format="email"))

    @classmethod
    def of_signed_in(cls, practitioner: Practitioner) -> MeJson:
        public = PractitionerJson.of(practitioner)
        return cls(**attrs.asdict(public, recurse=False), email=practitioner.email)


@frozen
class TimeOffJson:
    """A span of the practitioner's time in which nothing can be booked, in their time zone."""

    id: str
    start: datetime
    end: datetime
    note: str  # always sent, empty too

    @classmethod
    def of(cls, time_off: TimeOff, timezone: str) -> TimeOffJson:
        local = zone(timezone)
        span = time_off.span
        return cls(time_off.id, span.start.astimezone(local), span.end.astimezone(local), time_off.note)


@frozen
class TimeOffListJson:
    time_off: list[TimeOffJson] = field(metadata=keywords(description="not yet over, by start"))


@frozen
class PractitionerListJson:
    practitioners: list[PractitionerJson]


@frozen
class SlotJson:
    start: datetime
    end: datetime


@frozen
class AvailabilityJson:
    practitioner_id: str
    timezone: str
    source: AvailabilitySourceName
    slots: list[SlotJson]
    service_id: str = field(
        metadata=keywords(description="the service the slots are of (their length, step and notice)")
    )

    @classmethod
    def of(cls, availability: Availability, timezone: str) -> AvailabilityJson:
        tz = zone(timezone)
        slots = [SlotJson(slot.start.astimezone(tz), slot.end.astimezone(tz)) for slot in availability.slots]
        return cls(
            availability.practitioner_id, timezone, availability.source, slots, availability.service_id
        )

    @staticmethod
    def encoded(availability: Availability, timezone: str) -> bytes:
        """`json_response(AvailabilityJson.of(availability, timezone)).body`, byte for byte, built
        without the converter: after the busy spans were kept, encoding a week of slots was the
        largest cost of a computed answer. orjson writes the date-times itself (as isoformat does)
        and the document in C: 65 us against 360 for the stdlib over the same strings (35 slots).
        tests/web/test_availability_encoding.py holds the two equal; a field added to the class
        must be added here."""
        tz = zone(timezone)
        slots = [{"start": s.start.astimezone(tz), "end": s.end.astimezone(tz)} for s in availability.slots]
        document = {
            "practitioner_id": availability.practitioner_id,
            "timezone": timezone,
            "source": availability.source.value,
            "slots": slots,
            "service_id": availability.service_id,
        }
        return orjson.dumps(document)


@frozen
class PractitionerRefJson:
    id: str
    name: str


@frozen
class BookedServiceJson:
    """The service as it was when booked (its price is the booking's `price`)."""

    id: str
    name: str
    minutes: int

    @classmethod
    def of(cls, booking: Booking) -> BookedServiceJson:
        return cls(booking.service_id, booking.service_name, _minutes(booking.slot.duration))


@frozen
class BookingJson:
    """What anyone holding the (unguessable) id may see: never the client's contact details."""

    id: str
    status: BookingStatus
    start: datetime
    end: datetime
    timezone: str
    hold_expires_at: datetime
    price: MoneyJson
    practitioner: PractitionerRefJson
    service: BookedServiceJson

    @classmethod
    def of(cls, booking: Booking, practitioner: Practitioner) -> BookingJson:
        tz = zone(booking.client_timezone)
        return cls(
            id=booking.id,
            status=booking.status,
            start=booking.slot.start.astimezone(tz),
            end=booking.slot.end.astimezone(tz),
            timezone=booking.client_timezone,
            hold_expires_at=booking.hold_expires_at.astimezone(tz),
            price=MoneyJson.of(booking.price),
            practitioner=PractitionerRefJson(practitioner.id, practitioner.name),
            service=BookedServiceJson.of(booking),
        )


@frozen
class ClientJson:
    name: str
    email: str = field(metadata=keywords(format="email"))
    phone: str = field(metadata=keywords(description="E.164", examples=["+49301234567"]))


@frozen
class PractitionerBookingJson:
    """One of the practitioner's bookings as they see it: with the client's contact details and
    the payment; times in the practitioner's time zone."""

    id: str
    status: BookingStatus
    start: datetime
    end: datetime
    client: ClientJson
    price: MoneyJson
    paid: MoneyJson | None = field(metadata=keywords(description="what the client paid; null: nothing yet"))
    refunded: MoneyJson | None = field(metadata=keywords(description="what went back of it; null: nothing"))
    created_at: datetime
    service: BookedServiceJson

    @classmethod
    def of(cls, booking: Booking, practitioner: Practitioner) -> PractitionerBookingJson:
        tz = zone(practitioner.timezone)
        paid, refunded = booking.amount_paid, booking.amount_refunded
        return cls(
            id=booking.id,
            status=booking.status,
            start=booking.slot.start.astimezone(tz),
            end=booking.slot.end.astimezone(tz),
            client=ClientJson(booking.client.name, booking.client.email, booking.client.phone),
            price=MoneyJson.of(booking.price),
            paid=MoneyJson.of(paid) if paid is not None else None,
            refunded=MoneyJson.of(refunded) if refunded is not None else None,
            created_at=booking.created_at.astimezone(tz),
            service=BookedServiceJson.of(booking),
        )


@frozen
class CalendarFeedJson:
    """The practitioner's calendar feed, for a calendar app to subscribe to: keep it secret."""

    url: str = field(
        metadata=keywords(format="uri", examples=["https://book.example/calendar/3f9c...e1.ics"])
    )


@frozen
class PractitionerBookingListJson:
    bookings: list[PractitionerBookingJson] = field(metadata=keywords(description="ordered by start"))


@frozen
class NewBookingJson(BookingJson):
    """The held booking, with what only its creator learns."""

    checkout_url: str | None = field(kw_only=True, metadata=keywords(format="uri"))
    checkout_session_id: str | None = field(kw_only=True)
    cancel_token: str = field(kw_only=True, metadata=keywords(description="keep it: the only way to cancel"))

    @classmethod
    def held(cls, booking: Booking, practitioner: Practitioner, cancel_token: str) -> NewBookingJson:
        shown = BookingJson.of(booking, practitioner)
        return cls(
            **attrs.asdict(shown, recurse=False),
            checkout_url=booking.checkout_url,
            checkout_session_id=booking.checkout_session_id,
            cancel_token=cancel_token,
        )


@frozen
class MovedBookingJson(BookingJson):
    """The booking at its new time, to the client who moved it (with its cancel token)."""

    checkout_url: str | None = field(
        default=None,
        kw_only=True,
        metadata=keywords(
            format="uri",
            description="while the booking waits for its payment: where to pay (a move opens a new "
            "page naming the new time and closes the old one); absent once paid, or free",
        ),
    )

    @classmethod
    def moved(cls, booking: Booking, practitioner: Practitioner) -> MovedBookingJson:
        shown = BookingJson.of(booking, practitioner)
        unpaid = booking.status is BookingStatus.PENDING_PAYMENT
        return cls(
            **attrs.asdict(shown, recurse=False), checkout_url=booking.checkout_url if unpaid else None
        )


@frozen
class WebhookAnswerJson:
    received: Literal[True]
    outcome: PaymentOutcome


@frozen
class AliveJson:
    status: Literal["ok"]


@frozen
class ReadinessJson:
    status: Literal["ready", "unavailable"]
    problems: list[str] = field(factory=list, metadata=keywords(description="why it is not ready"))
