"""What the JSON API answers, as attrs classes: the converter writes them (converter.py) and
/openapi.json describes them (schema.py), so the answers and their schema cannot drift. Docstrings
and field metadata are written for the API's readers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs
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


@frozen
class PractitionerJson:
    id: str
    name: str
    timezone: str = field(metadata=keywords(examples=["Europe/Berlin"]))
    session_minutes: int
    price: MoneyJson
    min_notice_hours: float
    horizon_days: int
    availability_source: Literal[AvailabilitySourceName.SCHEDULE, AvailabilitySourceName.CALCOM]
    cancellation_policy: CancellationPolicyJson

    @classmethod
    def of(cls, practitioner: Practitioner) -> PractitionerJson:
        offer = practitioner.offer
        return cls(
            id=practitioner.id,
            name=practitioner.name,
            timezone=practitioner.timezone,
            session_minutes=int(offer.session_length.total_seconds() // 60),
            price=MoneyJson.of(offer.price),
            min_notice_hours=offer.min_notice.total_seconds() / 3600,
            horizon_days=offer.horizon.days,
            availability_source=(
                AvailabilitySourceName.CALCOM
                if practitioner.calcom_event_type_id
                else AvailabilitySourceName.SCHEDULE
            ),
            cancellation_policy=CancellationPolicyJson.of(offer.cancellation),
        )


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

    @classmethod
    def of(cls, availability: Availability, timezone: str) -> AvailabilityJson:
        tz = zone(timezone)
        slots = [SlotJson(slot.start.astimezone(tz), slot.end.astimezone(tz)) for slot in availability.slots]
        return cls(availability.practitioner_id, timezone, availability.source, slots)


@frozen
class PractitionerRefJson:
    id: str
    name: str


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
        )


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
