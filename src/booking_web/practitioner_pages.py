"""The practitioner's pages: asking for a sign-in link, following it, signing out, their
bookings week by week, cancelling one (a confirmation page, then its CSRF-protected form),
moving one (a week of free times of its service to pick from, then the move), and marking a
session that is over as a no-show (a button on the list) or taking that back.

Following the e-mailed link shows a button rather than signing in at once: mail scanners open links
in e-mails to look at them, and would use up a link that signed in on GET."""

from __future__ import annotations

import math
from datetime import date, timedelta

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from booking_core import (
    MAX_CANCEL_REASON,
    SIGN_IN_LINK_LIFETIME,
    Booking,
    InvalidInput,
    PaymentProviderError,
    Practitioner,
    RescheduleNotAllowed,
    SessionStarted,
    SlotUnavailable,
    TimeRange,
    Unauthenticated,
    zone,
)
from booking_web.bootstrap import service_of
from booking_web.csrf import FIELD as CSRF_FIELD
from booking_web.current_practitioner import (
    access_of,
    cancel_as_practitioner,
    session_cookie_of,
    session_practitioner,
)
from booking_web.errors import status_for
from booking_web.free_week import free_week, week_of
from booking_web.local_days import days_window, monday_of, today_in
from booking_web.page_rendering import csrf_guard, form_text, render
from booking_web.pages import parse_start
from booking_web.session_list import SHOWN_STATUSES, sessions_by_day
from booking_web.sign_in import SignInRequests

HOME = "/practitioner/bookings"
LOGIN = "/practitioner/login"
LINK_MINUTES = int(SIGN_IN_LINK_LIFETIME.total_seconds() // 60)


def _sign_in_requests(request: Request) -> SignInRequests:
    requests: SignInRequests = request.app.state.sign_in_requests
    return requests


def _form_page(request: Request, template: str, context: dict[str, object], status: int = 200) -> Response:
    token, cookie = csrf_guard(request).form_token(request)
    shared = {"csrf_token": token, "link_minutes": LINK_MINUTES}
    return render(request, template, context | shared, status, cookie)


async def login_page(request: Request) -> Response:
    return _form_page(request, "practitioner_login.html", {"email": "", "sent": False, "message": ""})


async def request_link(request: Request) -> Response:
    form = await request.form()
    csrf_guard(request).verify(request, form_text(form, CSRF_FIELD))
    email = form_text(form, "email").strip()
    if not email:
        context = {"email": "", "sent": False, "message": "Please enter your e-mail address."}
        return _form_page(request, "practitioner_login.html", context, 422)
    requests = _sign_in_requests(request)
    wait = await requests.seconds_until_allowed(email, request.client.host if request.client else "unknown")
    if wait:
        minutes = math.ceil(wait / 60)
        message = f"Too many sign-in requests. Please wait {minutes} minute{'s' if minutes > 1 else ''}."
        response = _form_page(
            request, "practitioner_login.html", {"email": email, "sent": False, "message": message}, 429
        )
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    response = _form_page(request, "practitioner_login.html", {"email": email, "sent": True, "message": ""})
    response.background = BackgroundTask(requests.send_link, email)  # after the answer: same timing
    return response


async def sign_in_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    valid = bool(token) and await access_of(request).link_is_valid(token)
    return _form_page(
        request, "practitioner_sign_in.html", {"token": token, "valid": valid}, 200 if valid else 400
    )


async def sign_in(request: Request) -> Response:
    form = await request.form()
    csrf_guard(request).verify(request, form_text(form, CSRF_FIELD))
    try:
        _, session = await access_of(request).sign_in(form_text(form, "token"))
    except Unauthenticated:
        return _form_page(request, "practitioner_sign_in.html", {"token": "", "valid": False}, 400)
    response = RedirectResponse(HOME, 303)
    session_cookie_of(request).start(response, session.token)
    return response


async def sign_out(request: Request) -> Response:
    form = await request.form()
    csrf_guard(request).verify(request, form_text(form, CSRF_FIELD))
    cookie = session_cookie_of(request)
    token = cookie.token(request)
    if token:
        await access_of(request).sign_out(token)
    response = RedirectResponse(LOGIN, 303)
    cookie.end(response)
    return response


async def home(request: Request) -> Response:
    await session_practitioner(request)  # a browser not signed in goes to the sign-in page instead
    return RedirectResponse(HOME, 303)


async def bookings_page(request: Request) -> Response:
    """A week of the practitioner's sessions (this week unless `week` names another), by day, in
    their time zone. This week's sessions that are over show on request (`past=1`); earlier weeks
    are all past and show whole."""
    practitioner = await session_practitioner(request)
    service = service_of(request)
    now = service.clock.now()
    this_week = monday_of(today_in(practitioner.timezone, service.clock))
    week = _week(request.query_params.get("week", ""), this_week)
    window = TimeRange(*days_window(week, week + timedelta(days=6), practitioner.timezone))
    found = await service.bookings_of(practitioner.id, window, SHOWN_STATUSES)
    all_past = week < this_week or request.query_params.get("past") == "1"
    hidden = [b for b in found if not all_past and b.slot.end <= now]
    shown = [b for b in found if b not in hidden]
    context = {
        "practitioner": practitioner,
        "week": week,
        "week_end": week + timedelta(days=6),
        "previous_week": week - timedelta(days=7),
        "next_week": week + timedelta(days=7),
        "this_week": this_week,
        "days": sessions_by_day(shown, practitioner.timezone, now),
        "hidden_past": len(hidden),
    }
    return _form_page(request, "practitioner_bookings.html", context)


async def cancel_page(request: Request) -> Response:
    """The confirmation step before cancelling one of the practitioner's sessions."""
    practitioner = await session_practitioner(request)
    booking = await service_of(request).booking_of_practitioner(
        practitioner.id, request.path_params["booking_id"]
    )
    return _cancel_form(request, practitioner, booking, reason="", message="")


async def cancel_session(request: Request) -> Response:
    """Cancel as the confirmation page asked, then back to the week of the session."""
    practitioner = await session_practitioner(request)
    form = await request.form()
    csrf_guard(request).verify(request, form_text(form, CSRF_FIELD))
    reason = form_text(form, "reason")
    try:
        cancelled = await cancel_as_practitioner(request, practitioner, reason)
    except (SessionStarted, InvalidInput) as refused:
        booking = await service_of(request).booking_of_practitioner(
            practitioner.id, request.path_params["booking_id"]
        )
        status = 409 if isinstance(refused, SessionStarted) else 422
        message = next(iter((refused.fields or {}).values()), refused.message)
        return _cancel_form(request, practitioner, booking, reason=reason, message=message, status=status)
    week = monday_of(cancelled.slot.start.astimezone(zone(practitioner.timezone)).date())
    return RedirectResponse(f"{HOME}?week={week.isoformat()}", 303)


async def record_no_show(request: Request) -> Response:
    """The "No-show" button (or, with `undo`, its taking back), then back to the session's week
    with its past sessions shown. Refusals (outside the window, not a held session) answer the
    error page with their status (409)."""
    practitioner = await session_practitioner(request)
    form = await request.form()
    csrf_guard(request).verify(request, form_text(form, CSRF_FIELD))
    service, booking_id = service_of(request), request.path_params["booking_id"]
    if form_text(form, "undo"):
        booking = await service.undo_no_show(practitioner.id, booking_id)
    else:
        booking = await service.mark_no_show(practitioner.id, booking_id)
    week = monday_of(booking.slot.start.astimezone(zone(practitioner.timezone)).date())
    return RedirectResponse(f"{HOME}?week={week.isoformat()}&past=1", 303)


def _cancel_form(
    request: Request,
    practitioner: Practitioner,
    booking: Booking,
    *,
    reason: str,
    message: str,
    status: int = 200,
) -> Response:
    now = service_of(request).clock.now()
    [(_, [session])] = sessions_by_day([booking], practitioner.timezone, now)
    context = {
        "session": session,
        "reason": reason,
        "message": message,
        "max_reason": MAX_CANCEL_REASON,
    }
    return _form_page(request, "practitioner_cancel.html", context, status)


async def move_page(request: Request) -> Response:
    """A week of free times of the session's service, in the practitioner's zone, to move it to."""
    practitioner = await session_practitioner(request)
    booking = await service_of(request).booking_of_practitioner(
        practitioner.id, request.path_params["booking_id"]
    )
    return await _move_form(request, practitioner, booking, request.query_params.get("week", ""))


async def move_session(request: Request) -> Response:
    """Move as the form asked, then back to the week of the new time; a refusal on the form."""
    practitioner = await session_practitioner(request)
    form = await request.form()
    csrf_guard(request).verify(request, form_text(form, CSRF_FIELD))
    service = service_of(request)
    booking = await service.booking_of_practitioner(practitioner.id, request.path_params["booking_id"])
    week, reason = form_text(form, "week"), form_text(form, "reason")
    start = parse_start(form_text(form, "start"))
    if start is None:
        errors = {"start": "Please choose a time."}
        return await _move_form(request, practitioner, booking, week, reason, errors=errors, status=422)
    try:
        moved = await service.reschedule_for_practitioner(booking.id, start, reason)
    except InvalidInput as refused:
        fields = refused.fields or {}
        return await _move_form(request, practitioner, booking, week, reason, errors=fields, status=422)
    # (PaymentProviderError: an unpaid hold's new payment page could not be opened; nothing moved)
    except (SlotUnavailable, RescheduleNotAllowed, PaymentProviderError) as refused:
        booking = await service.booking_of_practitioner(practitioner.id, booking.id)
        return await _move_form(
            request, practitioner, booking, week, reason, message=refused.message, status=status_for(refused)
        )
    moved_week = monday_of(moved.slot.start.astimezone(zone(practitioner.timezone)).date())
    return RedirectResponse(f"{HOME}?week={moved_week.isoformat()}", 303)


async def _move_form(
    request: Request,
    practitioner: Practitioner,
    booking: Booking,
    week_text: str,
    reason: str = "",
    *,
    errors: dict[str, str] | None = None,
    message: str = "",
    status: int = 200,
) -> Response:
    service = service_of(request)
    [(_, [session])] = sessions_by_day([booking], practitioner.timezone, service.clock.now())
    week_text = week_text or week_of(booking.slot.start, practitioner.timezone)  # the session's week first
    week = await free_week(
        service, practitioner, booking.service_id, practitioner.timezone, week_text, booking
    )
    context = week.context() | {
        "session": session,
        "reason": reason,
        "max_reason": MAX_CANCEL_REASON,
        "errors": errors or {},
        "message": message or week.message,
        "chosen": None,
    }
    return _form_page(request, "practitioner_move.html", context, max(status, week.status))


def _week(text: str, this_week: date) -> date:
    try:
        return monday_of(date.fromisoformat(text))
    except ValueError:
        return this_week


routes = [
    Route(LOGIN, login_page, methods=["GET"], name="practitioner_login"),
    Route(LOGIN, request_link, methods=["POST"]),
    Route("/practitioner/sign-in", sign_in_page, methods=["GET"], name="practitioner_sign_in"),
    Route("/practitioner/sign-in", sign_in, methods=["POST"]),
    Route("/practitioner/logout", sign_out, methods=["POST"], name="practitioner_logout"),
    Route("/practitioner", home, methods=["GET"], name="practitioner_home"),
    Route(HOME, bookings_page, methods=["GET"], name="practitioner_bookings"),
    Route(HOME + "/{booking_id}/cancel", cancel_page, methods=["GET"], name="practitioner_cancel"),
    Route(HOME + "/{booking_id}/cancel", cancel_session, methods=["POST"]),
    Route(HOME + "/{booking_id}/move", move_page, methods=["GET"], name="practitioner_move"),
    Route(HOME + "/{booking_id}/move", move_session, methods=["POST"]),
    Route(HOME + "/{booking_id}/no-show", record_no_show, methods=["POST"], name="practitioner_no_show"),
]
