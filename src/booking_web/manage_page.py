"""The client's page of their booking, opened from the link in their e-mails
(`/booking/{id}/manage?token=<cancel token>`): the session, a week of free times of the same service
to move it to, and a button to cancel it (the cancel page's form). It works without JavaScript;
its forms are CSRF-protected; a wrong token shows nothing (403)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from booking_core import (
    Booking,
    BookingError,
    BookingStatus,
    InvalidInput,
    PaymentProviderError,
    Practitioner,
    RescheduleNotAllowed,
    SlotUnavailable,
)
from booking_web.bootstrap import service_of
from booking_web.csrf import FIELD as CSRF_FIELD
from booking_web.errors import status_for
from booking_web.free_week import free_week, week_of
from booking_web.page_rendering import csrf_guard, form_text, render
from booking_web.pages import booking_context, parse_start

PATH = "/booking/{booking_id}/manage"
PATH_PATTERN = r"/booking/[^/]+/manage"  # for the rate limit


async def manage_page(request: Request) -> Response:
    service = service_of(request)
    booking = await service.booking(request.path_params["booking_id"])
    token = request.query_params.get("token", "")
    booking.require_cancel_token(token)  # 403 before anything of the booking is read out
    return await _page(request, booking, token, request.query_params.get("week", ""))


async def move(request: Request) -> Response:
    """Move the booking to the chosen start: the page again saying so, or saying why not."""
    service = service_of(request)
    form = await request.form()
    csrf_guard(request).verify(request, form_text(form, CSRF_FIELD))
    token, week = form_text(form, "token"), form_text(form, "week")
    booking = await service.booking(request.path_params["booking_id"])
    booking.require_cancel_token(token)
    start = parse_start(form_text(form, "start"))
    if start is None:
        return await _page(
            request, booking, token, week, errors={"start": "Please choose a time."}, status=422
        )
    try:
        moved = await service.reschedule_booking(booking.id, token, start)
    except InvalidInput as refused:
        return await _page(request, booking, token, week, errors=refused.fields, status=422)
    # (the payment provider could not open the new time's payment page: nothing moved)
    except (SlotUnavailable, RescheduleNotAllowed, PaymentProviderError) as refused:
        booking = await service.booking(booking.id)  # as it is now (another tab may have moved it)
        return await _page(request, booking, token, week, message=refused.message, status=status_for(refused))
    return await _page(request, moved, token, "", moved_now=True)


async def _page(
    request: Request,
    booking: Booking,
    token: str,
    week_text: str,
    *,
    errors: dict[str, str] | None = None,
    message: str = "",
    status: int = 200,
    moved_now: bool = False,
) -> Response:
    service = service_of(request)
    practitioner = await service.practitioner_of(booking)
    refusal = _why_not_movable(booking, practitioner, service.clock.now())
    context: dict[str, Any] = await booking_context(service, booking)
    if refusal is None and not moved_now:
        timezone = booking.client_timezone
        week_text = week_text or week_of(booking.slot.start, timezone)  # the session's own week first
        week = await free_week(service, practitioner, booking.service_id, timezone, week_text, booking)
        context |= week.context()
        message, status = message or week.message, max(status, week.status)
    csrf_token, cookie = csrf_guard(request).form_token(request)
    context |= {
        "token": token,
        "csrf_token": csrf_token,
        "movable": refusal is None,
        "not_movable": refusal or "",
        "moved_now": moved_now,
        "message": message,
        "errors": errors or {},
        "cancellation_terms": practitioner.offer.cancellation.terms_for(booking.price),
        "chosen": None,
        "start_in_future": booking.slot.start > service.clock.now(),
        # a hold waiting for its payment: its page (after a move, the new one, naming the new time)
        "pay_url": booking.checkout_url
        if booking.status is BookingStatus.PENDING_PAYMENT and booking.is_live(service.clock.now())
        else None,
    }
    return render(request, "manage.html", context, status, cookie)


def _why_not_movable(booking: Booking, practitioner: Practitioner, now: datetime) -> str | None:
    """None if the client may move the booking now, else why not (too late, moved too often): the
    booking's own rule, asked without moving it; "" for a booking that is over or not live (the
    page says its state)."""
    if not booking.is_live(now) or booking.slot.start <= now:
        return ""
    try:
        booking.reschedule(booking.slot, offer=practitioner.offer, at=now, reason="", by_practitioner=False)
    except BookingError as refused:
        return refused.message
    return None


routes = [
    Route(PATH, manage_page, methods=["GET"], name="manage_page"),
    Route(PATH, move, methods=["POST"]),
]
