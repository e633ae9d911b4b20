"""The JSON boundary's way in: request bodies structured by the one converter, query strings parsed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import TypeVar

import attrs
from attrs import frozen
from cattrs import ClassValidationError
from starlette.requests import Request

from booking_core import MAX_CANCEL_REASON, MAX_TIME_OFF_NOTE, BookingStatus, InvalidInput, zone
from booking_core.client import MAX_NAME_LENGTH, MAX_PHONE_LENGTH
from booking_web.converter import json_converter
from booking_web.errors import MalformedBody, UnsupportedMediaType
from booking_web.schema import keywords

T = TypeVar("T")


@frozen
class BookingBody:
    practitioner_id: str = attrs.field(metadata=keywords(examples=["jane-doe"]))
    start: datetime = attrs.field(
        metadata=keywords(description="a slot start from the availability, with its UTC offset")
    )
    name: str = attrs.field(
        metadata=keywords(
            minLength=1,
            maxLength=MAX_NAME_LENGTH,
            description="runs of spaces count as one",
            examples=["Ann Example"],
        )
    )
    email: str = attrs.field(metadata=keywords(format="email", examples=["ann@example.com"]))
    phone: str = attrs.field(
        metadata=keywords(minLength=1, maxLength=MAX_PHONE_LENGTH, examples=["+49 30 1234567"])
    )
    timezone: str | None = attrs.field(
        default=None, metadata=keywords(description="the client's IANA time zone, for messages")
    )
    service_id: str | None = attrs.field(
        default=None,
        metadata=keywords(
            description=(
                "one of the practitioner's `services`; required when there are several "
                "(else 422 naming service_id), optional when there is one"
            ),
            examples=["session"],
        ),
    )


@frozen
class CancelBody:
    cancel_token: str


_NEW_START = "the new start: a slot start of the booking's service from the availability, with its UTC offset"


@frozen
class RescheduleBody:
    cancel_token: str
    start: datetime = attrs.field(metadata=keywords(description=_NEW_START))


_TIME_OFF_BOUND = (
    "a date-time with its UTC offset, or a date (YYYY-MM-DD): whole days in the practitioner's "
    "time zone, from the start date's midnight to the end of the end date"
)


@frozen
class TimeOffBody:
    start: str = attrs.field(metadata=keywords(description=_TIME_OFF_BOUND, examples=["2030-01-08"]))
    end: str = attrs.field(
        metadata=keywords(description=_TIME_OFF_BOUND, examples=["2030-01-08T13:00:00+01:00"])
    )
    note: str = attrs.field(default="", metadata=keywords(maxLength=MAX_TIME_OFF_NOTE))


@frozen
class PractitionerCancelBody:
    reason: str = attrs.field(
        default="",
        metadata=keywords(
            maxLength=MAX_CANCEL_REASON,
            description="why, in a few words: it goes to the client in the cancellation e-mail",
            examples=["I am ill, sorry. Please book another time."],
        ),
    )


@frozen
class PractitionerRescheduleBody:
    start: datetime = attrs.field(
        metadata=keywords(
            description="the new start, with its UTC offset: any time still to come and free, "
            "outside the weekly schedule too"
        )
    )
    reason: str = attrs.field(
        default="",
        metadata=keywords(
            maxLength=MAX_CANCEL_REASON,
            description="why, in a few words: it goes to the client with the new time",
            examples=["A conference came up; I hope the afternoon suits you."],
        ),
    )


def require_json(content_type: str | None) -> None:
    """Refuse a body not sent as `application/json` (parameters such as charset allowed). Browsers
    send text/plain and form bodies across sites without asking (no CORS preflight); JSON they do not,
    so this keeps other websites from placing holds through their visitors' browsers."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            "Send the request body as JSON with the header Content-Type: application/json."
        )


async def json_body(request: Request, shape: type[T]) -> T:
    """The request's JSON body as `shape` (see require_json and parse_body)."""
    require_json(request.headers.get("content-type"))
    return parse_body(await request.body(), shape)


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


def parse_statuses(values: Sequence[str], field: str = "status") -> frozenset[BookingStatus] | None:
    """Booking statuses named in a query (`status=a&status=b` or `status=a,b`); None for none."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    if not names:
        return None
    known = {status.value: status for status in BookingStatus}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InvalidInput({field: f"{unknown[0]!r} is not a status; use one of {', '.join(known)}."})
    return frozenset(known[name] for name in names)
