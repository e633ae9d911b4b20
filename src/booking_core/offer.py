"""What a practitioner sells: session length, price, buffers and booking windows."""

from __future__ import annotations

import re
from datetime import timedelta

from attrs import field, frozen

from booking_core.money import Money
from booking_core.schedule import WeeklySchedule
from booking_core.timerange import TimeRange

_ZERO = timedelta(0)
_PRACTITIONER_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def _non_negative(_instance: object, attribute: object, value: timedelta) -> None:
    if value < _ZERO:
        raise ValueError(f"{getattr(attribute, 'name', 'duration')} must not be negative")


def _positive(_instance: object, attribute: object, value: timedelta) -> None:
    if value <= _ZERO:
        raise ValueError(f"{getattr(attribute, 'name', 'duration')} must be positive")


def _duration_in_words(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    count, unit = (minutes // 60, "hour") if minutes % 60 == 0 else (minutes, "minute")
    return f"{count} {unit}{'' if count == 1 else 's'}"


@frozen
class CancellationPolicy:
    """Full refund if cancelled `full_refund_notice` or more before the start, else `late_refund_percent`."""

    full_refund_notice: timedelta = field(default=timedelta(hours=24), validator=_non_negative)
    late_refund_percent: int = 0

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.late_refund_percent <= 100:
            raise ValueError("late_refund_percent must be between 0 and 100")

    def in_words(self) -> str:
        """The policy as the client reads it before paying (booking page) and after (confirmation
        e-mail): the one place these words are written."""
        if self.late_refund_percent == 100 or self.full_refund_notice == _ZERO:
            return "Full refund if you cancel before the session starts."
        later = "no refund" if self.late_refund_percent == 0 else f"{self.late_refund_percent} % refund"
        notice = _duration_in_words(self.full_refund_notice)
        return f"Full refund if you cancel at least {notice} before the session; after that, {later}."

    def refund_for(self, paid: Money, notice: timedelta) -> Money:
        if notice >= self.full_refund_notice:
            return paid
        return Money(paid.amount * self.late_refund_percent // 100, paid.currency)


@frozen
class Offer:
    """A bookable session. `slot_step` defaults to the session plus its buffers (a 50-minute session
    with 10 minutes after starts on the hour); holds last `hold_duration` (Stripe Checkout allows
    30 minutes to 24 hours, so that is the range)."""

    session_length: timedelta = field(validator=_positive)
    price: Money
    buffer_before: timedelta = field(default=_ZERO, validator=_non_negative)
    buffer_after: timedelta = field(default=_ZERO, validator=_non_negative)
    min_notice: timedelta = field(default=_ZERO, validator=_non_negative)
    horizon: timedelta = field(default=timedelta(days=60), validator=_positive)
    slot_step: timedelta | None = None
    hold_duration: timedelta = timedelta(minutes=30)
    cancellation: CancellationPolicy = CancellationPolicy()

    def __attrs_post_init__(self) -> None:
        if self.slot_step is not None and self.slot_step < timedelta(minutes=1):
            raise ValueError("slot_step must be at least one minute")
        if not timedelta(minutes=30) <= self.hold_duration <= timedelta(hours=24):
            raise ValueError("hold_duration must be between 30 minutes and 24 hours")

    @property
    def step(self) -> timedelta:
        return self.slot_step or self.session_length + self.buffer_before + self.buffer_after

    def occupied(self, slot: TimeRange) -> TimeRange:
        """The span a booking of `slot` keeps from everyone else: the slot plus its buffers.
        Two bookings conflict exactly when their occupied spans overlap."""
        return slot.widen(self.buffer_before, self.buffer_after)


def _practitioner_id(_instance: object, _attribute: object, value: str) -> None:
    if not _PRACTITIONER_ID.match(value):
        raise ValueError(f"{value!r} is not a URL-safe id (lowercase letters, digits, dashes)")


def _name(_instance: object, _attribute: object, value: str) -> None:
    if not value.strip() or len(value) > 200:
        raise ValueError("name must be 1 to 200 characters")


@frozen
class Practitioner:
    id: str = field(validator=_practitioner_id)
    name: str = field(validator=_name)
    offer: Offer
    schedule: WeeklySchedule
    calcom_event_type_id: int | None = None
    email: str | None = None  # where the practitioner hears of bookings; None: not notified by e-mail

    @property
    def timezone(self) -> str:
        return self.schedule.timezone
