"""The signed-in practitioner's calendar page: their feed's address to subscribe to (also as a
`webcal://` link), how to in the common calendar apps, and a CSRF-protected "New address" button
that rotates it (the old address answers 404 from then on).

The address is the feed's only credential: the page is rendered `no-store` (page_rendering), every
answer carries `Referrer-Policy: no-referrer` (security_headers), the page's own URL carries no
token, and nothing here logs it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from booking_web.calendar_feed import feed_url, feeds_of, webcal_url
from booking_web.csrf import FIELD as CSRF_FIELD
from booking_web.current_practitioner import session_practitioner
from booking_web.page_rendering import csrf_guard, form_text, render

PAGE = "/practitioner/calendar"
ROTATED = "rotated"  # the query flag of the redirect after a rotation: the page says so


async def calendar_page(request: Request) -> Response:
    practitioner = await session_practitioner(request)
    token = await feeds_of(request).token(practitioner.id)  # created on the first visit
    url = feed_url(request.app.state.settings, token)
    csrf_token, cookie = csrf_guard(request).form_token(request)
    context = {
        "practitioner": practitioner,
        "feed_url": url,
        "webcal_url": webcal_url(url),
        "rotated": request.query_params.get(ROTATED) == "1",
        "csrf_token": csrf_token,
    }
    return render(request, "practitioner_calendar.html", context, csrf_cookie=cookie)


async def rotate_address(request: Request) -> Response:
    """A new address, then back to the page, which shows it (a reload does not rotate again)."""
    practitioner = await session_practitioner(request)
    form = await request.form()
    csrf_guard(request).verify(request, form_text(form, CSRF_FIELD))
    await feeds_of(request).rotate(practitioner.id)
    return RedirectResponse(f"{PAGE}?{ROTATED}=1", 303)


routes = [
    Route(PAGE, calendar_page, methods=["GET"], name="practitioner_calendar"),
    Route(f"{PAGE}/rotate", rotate_address, methods=["POST"], name="practitioner_calendar_rotate"),
]
