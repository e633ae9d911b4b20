"""Domain error -> HTTP status in one table; every error answers `{"error": {code, message, fields?}}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from attrs import field, frozen
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from booking_core import (
    BookingError,
    ConcurrentUpdate,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidCancelToken,
    InvalidInput,
    InvalidPaymentEvent,
    InvalidSignature,
    NotFound,
    ProviderError,
    RescheduleNotAllowed,
    SlotUnavailable,
    TimeOffConflicts,
    TooManyHolds,
    Unauthenticated,
)
from booking_web.converter import json_response
from booking_web.schema import keywords

log = logging.getLogger(__name__)


class MalformedBody(BookingError):
    code = "malformed_body"


class BodyTooLarge(BookingError):
    code = "body_too_large"


class UnsupportedMediaType(BookingError):
    code = "unsupported_media_type"


class RateLimited(BookingError):
    code = "rate_limited"


class CsrfRejected(BookingError):
    code = "csrf_rejected"


# The lookup walks the class hierarchy (the first listed ancestor wins), so a new subclass of a
# listed error needs no entry of its own.
STATUS_BY_ERROR: dict[type[BookingError], int] = {
    MalformedBody: 400,
    InvalidSignature: 400,
    InvalidPaymentEvent: 400,
    Unauthenticated: 401,
    InvalidCancelToken: 403,
    CsrfRejected: 403,
    NotFound: 404,
    SlotUnavailable: 409,
    TimeOffConflicts: 409,
    RescheduleNotAllowed: 422,  # a policy's refusal the client can read: too late, too many moves
    IllegalTransition: 409,
    ConcurrentUpdate: 409,
    BodyTooLarge: 413,
    UnsupportedMediaType: 415,
    InvalidInput: 422,
    IdempotencyKeyReused: 422,
    RateLimited: 429,
    TooManyHolds: 429,
    ProviderError: 503,
    BookingError: 400,
}

SIGN_IN_PAGE = "/practitioner/login"
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


def status_for(error: BookingError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


@frozen
class ErrorDetailJson:
    code: str = field(metadata=keywords(examples=sorted({error.code for error in STATUS_BY_ERROR})))
    message: str
    fields: dict[str, str] = field(
        factory=dict, metadata=keywords(description="what is wrong with each field")
    )
    id: str = field(default="", metadata=keywords(description="error id of a 500, as logged"))
    booking_ids: list[str] = field(
        factory=list,
        metadata=keywords(description="the live bookings time off may not cover (`time_off_conflicts`)"),
    )


@frozen
class ErrorJson:
    """Every error the API answers, whatever its status."""

    error: ErrorDetailJson


def error_body(
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    error_id: str | None = None,
    booking_ids: Sequence[str] = (),
) -> ErrorJson:
    """Empty `fields`, `id` and `booking_ids` are left out of the JSON (defaults are not sent)."""
    return ErrorJson(ErrorDetailJson(code, message, fields or {}, error_id or "", list(booking_ids)))


def wants_html(request: Request) -> bool:
    """Pages answer errors in HTML; the API, probes and scripts get JSON."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


async def handle_booking_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BookingError)
    status = status_for(exc)
    headers = {}
    if isinstance(exc, ProviderError):
        request.app.state.metrics.provider_errors.labels(provider=exc.provider).inc()
        log.warning("%s provider failed: %s", exc.provider, exc.message)
        headers["Retry-After"] = "30"
    fields = exc.fields  # e.g. the invalid fields, the Idempotency-Key header, which hold cap
    if isinstance(exc, Unauthenticated):
        if wants_html(request):  # a browser on a practitioner's page: to the sign-in form
            return RedirectResponse(SIGN_IN_PAGE, 303, headers={"Cache-Control": "no-store"})
        headers["WWW-Authenticate"] = "Bearer"
    if wants_html(request):
        return error_page(request, status, exc.message, headers)
    in_the_way = exc.booking_ids if isinstance(exc, TimeOffConflicts) else ()
    return json_response(
        error_body(exc.code, exc.message, fields, booking_ids=in_the_way), status, headers=headers
    )


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = "There is nothing here." if exc.status_code == 404 else str(exc.detail)
    if wants_html(request):
        return error_page(request, exc.status_code, message, exc.headers)
    return json_response(error_body(code, message), exc.status_code, headers=exc.headers)


def error_page(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status, headers=headers
    )
    return response


def server_error(error_id: str, html: bool) -> Response:
    """The answer to an unexpected error: its id, never a stack trace. No template, in case that broke."""
    message = f"Something went wrong on our side. If it persists, quote error id {error_id}."
    if html:
        return HTMLResponse(f"<!doctype html><title>Error</title><h1>Sorry</h1><p>{message}</p>", 500)
    return json_response(error_body("internal_error", message, error_id=error_id), 500)
