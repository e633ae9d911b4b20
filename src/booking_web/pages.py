"""Server-rendered pages: practitioners, a week of free slots with the booking form, the pages
Checkout returns to, and cancelling. They work without JavaScript."""

from __future__ import annotations

import functools
import hmac
import secrets
import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from booking_core import (
    Booking,
    BookingRequest,
    BookingService,
    InvalidInput,
    Practitioner,
    ProviderError,
    Service,
    ServiceChoiceError,
    SlotUnavailable,
    TooManyHolds,
    start_time_problem,
    zone,
)
from booking_web.bootstrap import service_of
from booking_web.checkout_checks import CheckoutChecks
from booking_web.csrf import FIELD as CSRF_FIELD
from booking_web.errors import status_for
from booking_web.free_week import free_week, valid_zone
from booking_web.page_rendering import csrf_guard as _guard
from booking_web.page_rendering import form_text as _text
from booking_web.page_rendering import render as _render

FORM_FIELDS = ("name", "email", "phone")


@functools.cache
def timezone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


# -- home ------------------------------------------------------------------------------------------


async def home(request: Request) -> Response:
    practitioners = await service_of(request).directory.list()
    return _render(request, "home.html", {"practitioners": practitioners})


# -- the booking page ------------------------------------------------------------------------------


async def booking_page(request: Request) -> Response:
    practitioner = await service_of(request).practitioner(request.path_params["practitioner_id"])
    query = request.query_params
    return await _booking_page(
        request,
        practitioner,
        _chosen_service(practitioner, query.get("service", "")),
        query.get("tz", ""),
        query.get("week", ""),
    )


def _chosen_service(practitioner: Practitioner, service_id: str) -> Service | None:
    """The service the page is for: the one named, or the only one; None: the client chooses first
    (none named among several, or one that is not the practitioner's)."""
    try:
        return practitioner.service(service_id or None)
    except ServiceChoiceError:
        return None


async def submit_booking(request: Request) -> Response:
    service = service_of(request)
    practitioner = await service.practitioner(request.path_params["practitioner_id"])
    form = await request.form()
    _guard(request).verify(request, _text(form, CSRF_FIELD))
    values = {name: _text(form, name) for name in FORM_FIELDS}
    timezone, week = _text(form, "tz"), _text(form, "week")
    offered = _chosen_service(practitioner, _text(form, "service"))
    start = parse_start(_text(form, "start"))
    if offered is None or start is None:
        errors = (
            {"service": "Please choose a service."} if offered is None else {"start": "Please choose a time."}
        )
        return await _booking_page(request, practitioner, offered, timezone, week, values, errors, status=422)
    try:
        hold = await service.request_booking(
            BookingRequest(
                practitioner_id=practitioner.id,
                start=start,
                timezone=valid_zone(timezone, practitioner.timezone),
                idempotency_key=_text(form, "request_key") or None,  # a double click books once
                client_address=request.client.host if request.client else None,
                service_id=offered.id,
                **values,
            )
        )
    except InvalidInput as error:
        chosen = None if "start" in error.fields else start  # a refused start is not shown as picked
        return await _booking_page(
            request, practitioner, offered, timezone, week, values, error.fields, status=422, chosen=chosen
        )
    except (SlotUnavailable, TooManyHolds, ProviderError) as error:
        return await _booking_page(
            request,
            practitioner,
            offered,
            timezone,
            week,
            values,
            message=error.message,
            status=status_for(error),
        )
    if hold.booking.checkout_url is None:  # a free service: confirmed already, nothing to pay
        confirmation = request.url_for("success_page").include_query_params(
            booking=hold.booking.id, token=hold.cancel_token
        )
        return RedirectResponse(str(confirmation), 303)
    return RedirectResponse(hold.booking.checkout_url, 303)


def parse_start(value: str) -> datetime | None:
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        return None
    # A start the core refuses (no offset, past the calendar's edge) is no chosen time on this page.
    return None if start_time_problem(start) is not None else start


async def _booking_page(
    request: Request,
    practitioner: Practitioner,
    offered: Service | None,
    timezone: str,
    week_text: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    *,
    message: str = "",
    status: int = 200,
    chosen: datetime | None = None,
) -> Response:
    # no service chosen yet: the client chooses one first, no times yet
    week = await free_week(
        service_of(request), practitioner, offered.id if offered else None, timezone, week_text
    )
    if week.message:
        message, status = week.message, week.status
    token, cookie = _guard(request).form_token(request)
    context = week.context() | {
        "practitioner": practitioner,
        "services": practitioner.offered_services,
        "service": offered,
        "service_line": _service_line(practitioner, offered) if offered else "",
        "timezones": timezone_names(),
        "values": values or dict.fromkeys(FORM_FIELDS, ""),
        "errors": errors or {},
        "message": message,
        "chosen": chosen.astimezone(zone(week.timezone)) if chosen else None,
        "csrf_token": token,
        "request_key": secrets.token_urlsafe(16),
        "privacy_notice": request.app.state.settings.privacy_notice,
        "privacy_notice_url": request.app.state.settings.privacy_notice_url,
    }
    return _render(request, "book.html", context, status, cookie)


def _service_line(practitioner: Practitioner, service: Service) -> str:
    """`Intro call: 20 minutes, 30.00 EUR`; for a practitioner who lists no services the words
    from before services existed, `50-minute session, 90.00 EUR`."""
    minutes = service.length // timedelta(minutes=1)
    if not practitioner.services:
        return f"{minutes}-minute session, {service.price}"
    return f"{service.name}: {minutes} minutes, {service.price}"


# -- after checkout --------------------------------------------------------------------------------


async def success_page(request: Request) -> Response:
    """Where Checkout returns after paying, and the booking form after booking a free service.
    Holding the session id proves the visitor went through that checkout (the cancel token, that
    they made the free booking), so this page may show the cancel link."""
    service = service_of(request)
    booking = await service.booking(request.query_params.get("booking", ""))
    session_id = request.query_params.get("session_id", "")
    paid_here = booking.checkout_session_id is not None and hmac.compare_digest(
        session_id.encode(),
        booking.checkout_session_id.encode(),  # str must be ASCII, bytes need not
    )
    if paid_here:  # the webhook may be late or lost: ask Stripe about this session now
        checks: CheckoutChecks = request.app.state.checkout_checks
        booking = await checks.refresh(booking, session_id)
    booked_here = paid_here or booking.cancel_token_matches(request.query_params.get("token", ""))
    context = await booking_context(service, booking)
    if booked_here:
        context["manage_url"] = request.url_for("manage_page", booking_id=booking.id).include_query_params(
            token=service.ids.cancel_token(booking.id)
        )
    return _render(request, "success.html", context)


async def cancelled_checkout_page(request: Request) -> Response:
    """Where Checkout returns when the visitor turned back without paying."""
    service = service_of(request)
    booking_id = request.query_params.get("booking")
    context = await booking_context(service, await service.booking(booking_id)) if booking_id else {}
    return _render(request, "checkout_cancelled.html", context)


async def booking_context(service: BookingService, booking: Booking) -> dict[str, Any]:
    tz = zone(booking.client_timezone)
    return {
        "booking": booking,
        "practitioner": await service.practitioner_of(booking),
        "start": booking.slot.start.astimezone(tz),
        "end": booking.slot.end.astimezone(tz),
        "hold_expires_at": booking.hold_expires_at.astimezone(tz),
    }


# -- cancelling ------------------------------------------------------------------------------------


async def cancel_page(request: Request) -> Response:
    service = service_of(request)
    booking = await service.booking(request.path_params["booking_id"])
    token = request.query_params.get("token", "")
    booking.require_cancel_token(token)
    csrf_token, cookie = _guard(request).form_token(request)
    context = await booking_context(service, booking) | {"token": token, "csrf_token": csrf_token}
    return _render(request, "cancel.html", context, csrf_cookie=cookie)


async def confirm_cancel(request: Request) -> Response:
    service = service_of(request)
    form = await request.form()
    _guard(request).verify(request, _text(form, CSRF_FIELD))
    booking = await service.cancel_booking(request.path_params["booking_id"], _text(form, "token"))
    return _render(request, "cancel.html", await booking_context(service, booking) | {"done": True})


routes = [
    Route("/", home, methods=["GET"], name="home"),
    Route("/book/{practitioner_id}", booking_page, methods=["GET"], name="booking_page"),
    Route("/book/{practitioner_id}", submit_booking, methods=["POST"]),
    Route("/booking/success", success_page, methods=["GET"], name="success_page"),
    Route("/booking/cancelled", cancelled_checkout_page, methods=["GET"]),
    Route("/booking/{booking_id}/cancel", cancel_page, methods=["GET"], name="cancel_page"),
    Route("/booking/{booking_id}/cancel", confirm_cancel, methods=["POST"]),
]
