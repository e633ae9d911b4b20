"""The one cattrs converter of the JSON boundary: request bodies in (payloads.py), answers out
(answers.py). `booking_web.schema` describes the same classes the way this converter reads and writes
them, so a rule of either side below is a rule of the other."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from cattrs import Converter
from starlette.responses import JSONResponse

from booking_core import start_time_problem


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


# Extra keys in a request are ignored (so the request schemas stay open). A field of an answer left at
# its default is not sent (an error's empty `fields`), so the schema requires only fields without one.
json_converter = Converter(forbid_extra_keys=False, omit_if_default=True)
json_converter.register_structure_hook(str, _strict_str)
json_converter.register_structure_hook(datetime, _aware_datetime)
# Answers carry date-times already in the zone the client reads them in, offset included.
json_converter.register_unstructure_hook(datetime, datetime.isoformat)


def json_response(
    answer: object, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An answer class (answers.py, errors.py) as the JSON response."""
    return JSONResponse(json_converter.unstructure(answer), status_code, headers=headers)
