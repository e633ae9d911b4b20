"""The JSON boundary: request bodies structured with one cattrs converter, domain objects as JSON."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, TypeVar

from attrs import frozen
from cattrs import ClassValidationError, Converter

from booking_core import (
    Availability,
    Booking,
    CancellationPolicy,
    InvalidInput,
    Money,
    Practitioner,
    start_time_problem,
    zone,
)
from booking_web.errors import MalformedBody, UnsupportedMediaType

T = TypeVar("T")


@frozen
class BookingBody:
    practitioner_id: str
    start: datetime
    name: str
    email: str
    phone: str
    timezone: str | None = None


@frozen
class CancelBody:
    cancel_token: str


def _strict_str(value: object, _type: object) -> str:
    if not isinstance(value, str):
        raise ValueError("Expected a string.")
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:  # JSON may escape a lone surrogate (\ud800); it is not text
            raise ValueError("The text is not valid Unicode.") from None
    return value


def _aware_datetime(value: object, _type: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("Expected an ISO 8601 date-time string.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("Expected an ISO 8601 date-time, e.g. 2030-01-07T09:00:00+01:00.") from None
    problem = start_time_problem(parsed)  # the only date-time in a body is a booking's start
    if problem is not None:
        raise ValueError(problem)
    return parsed


json_converter = Converter(forbid_extra_keys=False)
json_converter.register_structure_hook(str, _strict_str)
json_converter.register_structure_hook(datetime, _aware_datetime)


def require_json(content_type: str | None) -> None:
    """Refuse a body not sent as `application/json` (parameters such as charset allowed). Browsers
    send text/plain and form bodies across sites without asking (no CORS preflight); JSON they do not,
    so this keeps other websites from placing holds through their visitors' browsers."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            "Send the request body as JSON with the header Content-Type: application/json."
        )


def parse_body(raw: bytes, shape: type[T]) -> T:
    """A request body as `shape`: MalformedBody if it is not JSON, InvalidInput naming every bad field."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # also numbers of over 4300 digits and nesting past the stack
        raise MalformedBody("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidInput({"body": "Expected a JSON object."}, "The request body has the wrong shape.")
    try:
        return json_converter.structure(data, shape)
    except ClassValidationError as error:
        raise InvalidInput(_fields(error), "The request body has the wrong shape.") from None


def _fields(error: ClassValidationError) -> dict[str, str]:
    fields = {}
    with_notes, without = error.group_exceptions()
    for problem, note in with_notes:
        if isinstance(problem, KeyError):
            fields[note.name] = "This field is required."
        elif isinstance(problem, ValueError):
            fields[note.name] = str(problem)
        else:
            fields[note.name] = f"Expected a {getattr(note.type, '__name__', 'value')}."
    if without:
        fields["body"] = "The request body has the wrong shape."
    return fields


# -- query strings -------------------------------------------------------------------------------


def parse_timezone(value: str, field: str = "timezone") -> str:
    try:
        zone(value)
    except ValueError as error:
        raise InvalidInput({field: str(error)}) from None
    return value


def parse_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput({field: f"{value!r} is not a date of the form YYYY-MM-DD."}) from None


# -- responses -------------------------------------------------------------------------------------


def money_json(money: Money) -> dict[str, Any]:
    return {"amount": money.amount, "currency": money.currency, "formatted": str(money)}


def practitioner_json(practitioner: Practitioner) -> dict[str, Any]:
    offer = practitioner.offer
    return {
        "id": practitioner.id,
        "name": practitioner.name,
        "timezone": practitioner.timezone,
        "session_minutes": int(offer.session_length.total_seconds() // 60),
        "price": money_json(offer.price),
        "min_notice_hours": offer.min_notice.total_seconds() / 3600,
        "horizon_days": offer.horizon.days,
        "availability_source": "calcom" if practitioner.calcom_event_type_id else "schedule",
        "cancellation_policy": cancellation_policy_json(offer.cancellation),
    }


def cancellation_policy_json(policy: CancellationPolicy) -> dict[str, Any]:
    hours = policy.full_refund_notice.total_seconds() / 3600
    return {
        "full_refund_notice_hours": int(hours) if hours.is_integer() else hours,
        "late_refund_percent": policy.late_refund_percent,
        "description": policy.in_words(),
    }


def availability_json(availability: Availability, timezone: str) -> dict[str, Any]:
    tz = zone(timezone)
    return {
        "practitioner_id": availability.practitioner_id,
        "timezone": timezone,
        "source": availability.source.value,
        "slots": [
            {"start": slot.start.astimezone(tz).isoformat(), "end": slot.end.astimezone(tz).isoformat()}
            for slot in availability.slots
        ],
    }


def booking_json(booking: Booking, practitioner: Practitioner) -> dict[str, Any]:
    """What anyone holding the (unguessable) id may see: never the client's contact details."""
    tz = zone(booking.client_timezone)
    return {
        "id": booking.id,
        "status": booking.status.value,
        "start": booking.slot.start.astimezone(tz).isoformat(),
        "end": booking.slot.end.astimezone(tz).isoformat(),
        "timezone": booking.client_timezone,
        "hold_expires_at": booking.hold_expires_at.astimezone(tz).isoformat(),
        "price": money_json(booking.price),
        "practitioner": {"id": practitioner.id, "name": practitioner.name},
    }
