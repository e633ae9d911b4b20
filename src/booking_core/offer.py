"""What a practitioner sells: their services (length, price), buffers and booking windows."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cached_property

from attrs import evolve, field, frozen

from booking_core.booking_limits import NO_LIMITS, BookingLimit, BookingLimits, limits_at
from booking_core.money import Money
from booking_core.schedule import WeeklySchedule
from booking_core.timerange import TimeRange

_ZERO = timedelta(0)
_URL_SAFE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# The one service of a practitioner who lists none: their offer's session length and price.
DEFAULT_SERVICE_ID = "session"
DEFAULT_SERVICE_NAME = "Session"
# How long before a confirmed session its client is reminded, once per offset (the practitioner's
# `reminder_hours`); at most MAX_REMINDERS of them, none longer than MAX_REMINDER_OFFSET ahead.
DEFAULT_REMINDER_OFFSETS = (timedelta(hours=24),)
MAX_REMINDERS = 5
MAX_REMINDER_OFFSET = timedelta(days=30)
MAX_LOCATION_LENGTH = 500


def _non_negative(_instance: object, attribute: object, value: timedelta) -> None:
    if value < _ZERO:
        raise ValueError(f"{getattr(attribute, 'name', 'duration')} must not be negative")


def _positive(_instance: object, attribute: object, value: timedelta) -> None:
    if value <= _ZERO:
        raise ValueError(f"{getattr(attribute, 'name', 'duration')} must be positive")


def duration_in_words(duration: timedelta) -> str:
    """ "2 hours", "90 minutes": a notice as clients read it."""
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
        notice = duration_in_words(self.full_refund_notice)
        return f"Full refund if you cancel at least {notice} before the session; after that, {later}."

    def terms_for(self, price: Money) -> str:
        """The terms a booking at `price` is made on: a free one has nothing to refund."""
        if price.amount == 0:
            return "Nothing to pay: cancel at any time before the session starts."
        return self.in_words()

    def refund_for(self, paid: Money, notice: timedelta) -> Money:
        if notice >= self.full_refund_notice:
            return paid
        return Money(paid.amount * self.late_refund_percent // 100, paid.currency)


def _latest_first(offsets: Iterable[timedelta]) -> tuple[timedelta, ...]:
    """Reminder offsets without repeats, the earliest reminder (the longest offset) first."""
    return tuple(sorted(set(offsets), reverse=True))


def _reminder_offsets(_instance: object, _attribute: object, value: tuple[timedelta, ...]) -> None:
    if len(value) > MAX_REMINDERS:
        raise ValueError(f"reminder_hours: at most {MAX_REMINDERS} reminders")
    if any(not _ZERO < offset <= MAX_REMINDER_OFFSET for offset in value):
        raise ValueError(
            f"reminder_hours must each be more than 0 and at most {MAX_REMINDER_OFFSET.days * 24}"
        )


@frozen
class ReschedulePolicy:
    """When a client may move their session themselves: at least `notice` before its start (None:
    the cancellation policy's full-refund notice, so that moving is allowed exactly when cancelling
    costs nothing) and at most `max_moves` times. The practitioner is bound by neither."""

    notice: timedelta | None = field(default=None)
    max_moves: int = 2

    def __attrs_post_init__(self) -> None:
        if self.notice is not None and self.notice < _ZERO:
            raise ValueError("reschedule notice must not be negative")
        if self.max_moves < 0:
            raise ValueError("max_reschedules must not be negative")

    def notice_under(self, cancellation: CancellationPolicy) -> timedelta:
        return cancellation.full_refund_notice if self.notice is None else self.notice


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
    # The practitioner's reminders (booking_core.reminders); empty: none. Services do not override them.
    reminder_offsets: tuple[timedelta, ...] = field(
        default=DEFAULT_REMINDER_OFFSETS, converter=_latest_first, validator=_reminder_offsets
    )
    rescheduling: ReschedulePolicy = ReschedulePolicy()

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


def _url_safe_id(_instance: object, _attribute: object, value: str) -> None:
    if not _URL_SAFE_ID.match(value):
        raise ValueError(f"{value!r} is not a URL-safe id (lowercase letters, digits, dashes)")


def _name(_instance: object, _attribute: object, value: str) -> None:
    if not value.strip() or len(value) > 200:
        raise ValueError("name must be 1 to 200 characters")


def _location(_instance: object, _attribute: object, value: str | None) -> None:
    if value is not None and (not value.strip() or len(value) > MAX_LOCATION_LENGTH):
        raise ValueError(f"location must be 1 to {MAX_LOCATION_LENGTH} characters")


# What a service may set for itself; left None, the practitioner's offer decides.
_OVERRIDES = ("buffer_before", "buffer_after", "min_notice", "slot_step", "hold_duration")


@frozen
class Service:
    """One thing a practitioner offers (an intro call, a session, a double session): its own id
    (URL-safe, stable: bookings and links name it), name, length and price (0: free), and optionally
    its own buffers, minimum notice, slot step and hold; what it leaves None the practitioner's offer
    decides (`Practitioner.offer_for`). Horizon, cancellation and reschedule policies are the
    practitioner's."""

    id: str = field(validator=_url_safe_id)
    name: str = field(validator=_name)
    length: timedelta = field(validator=_positive)
    price: Money
    buffer_before: timedelta | None = None
    buffer_after: timedelta | None = None
    min_notice: timedelta | None = None
    slot_step: timedelta | None = None
    hold_duration: timedelta | None = None
    # Its own limits, counting its bookings only (the practitioner's count every service's).
    limits: BookingLimits = NO_LIMITS
    # Where the session takes place (an address, a video link): told in the client's e-mails.
    location: str | None = field(default=None, validator=_location)

    def __attrs_post_init__(self) -> None:
        self.applied_to(Offer(self.length, self.price))  # Offer's checks judge the overrides too

    def applied_to(self, defaults: Offer) -> Offer:
        """The offer a booking of this service follows: `defaults` with what the service sets."""
        overrides = {name: value for name in _OVERRIDES if (value := getattr(self, name)) is not None}
        return evolve(defaults, session_length=self.length, price=self.price, **overrides)

    @classmethod
    def of_offer(cls, offer: Offer) -> Service:
        """The one service of a practitioner who lists none (as before services existed)."""
        return cls(DEFAULT_SERVICE_ID, DEFAULT_SERVICE_NAME, offer.session_length, offer.price)


def _as_tuple(services: Iterable[Service]) -> tuple[Service, ...]:
    return tuple(services)


def _distinct_ids(_instance: object, _attribute: object, value: tuple[Service, ...]) -> None:
    ids = [service.id for service in value]
    repeated = sorted({service_id for service_id in ids if ids.count(service_id) > 1})
    if repeated:
        raise ValueError(f"service ids must be unique; repeated: {', '.join(repeated)}")


class ServiceChoiceError(ValueError):
    """The service asked for is not one of the practitioner's, or none was named among several."""


@frozen
class Practitioner:
    id: str = field(validator=_url_safe_id)
    name: str = field(validator=_name)
    offer: Offer  # the defaults every service starts from
    schedule: WeeklySchedule
    calcom_event_type_id: int | None = None
    email: str | None = None  # where the practitioner hears of bookings; None: not notified by e-mail
    # As listed in the practitioner file; empty: the one service `session` of `offer` (see
    # `offered_services`), so a practitioner without services behaves as before they existed.
    services: tuple[Service, ...] = field(default=(), converter=_as_tuple, validator=_distinct_ids)
    # How many bookings of any service a day and a week, in the practitioner's calendar.
    limits: BookingLimits = NO_LIMITS

    @property
    def timezone(self) -> str:
        return self.schedule.timezone

    # Cached: a practitioner is read once and asked for its services and offers on every
    # availability answer (attrs keeps a cached_property in a slot; equality ignores it).
    @cached_property
    def offered_services(self) -> tuple[Service, ...]:
        """What clients choose from, in the practitioner's order: never empty."""
        return self.services or (Service.of_offer(self.offer),)

    @cached_property
    def _offers(self) -> tuple[tuple[Service, Offer], ...]:
        return tuple((service, service.applied_to(self.offer)) for service in self.offered_services)

    def service(self, service_id: str | None) -> Service:
        """The service `service_id`; None is allowed only when there is one. ServiceChoiceError
        otherwise, naming the choices."""
        offered = self.offered_services
        if service_id is None and len(offered) == 1:
            return offered[0]
        for service in offered:
            if service.id == service_id:
                return service
        choices = ", ".join(service.id for service in offered)
        if service_id is None:
            raise ServiceChoiceError(f"Choose a service: one of {choices}.")
        raise ServiceChoiceError(f"There is no service {service_id!r} here; choose one of {choices}.")

    def limits_for(self, service_id: str, start: datetime) -> tuple[BookingLimit, ...]:
        """The limits a booking of `service_id` starting at `start` counts against: the
        practitioner's and the service's own (none of a service no longer offered)."""
        own = [(s.limits, s.id) for s in self.offered_services if s.id == service_id]
        return limits_at(start, self.timezone, [(self.limits, None), *own])

    def has_limits(self, service_id: str) -> bool:
        return self.limits.any or any(s.limits.any for s in self.offered_services if s.id == service_id)

    def offer_for(self, service: Service | None = None) -> Offer:
        """The offer a booking of `service` follows (None: the first offered service's)."""
        if service is None:
            return self._offers[0][1]
        for offered, offer in self._offers:
            if offered is service:
                return offer
        return service.applied_to(self.offer)
