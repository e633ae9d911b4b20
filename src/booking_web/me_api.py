"""The JSON API of the signed-in practitioner (`Authorization: Bearer <token>`, from
`booking practitioners token ID`): who they are, their bookings, their calendar feed's address.
Each endpoint resolves the practitioner first, so a request without a valid token is 401 before
anything is read; a booking of another practitioner is 404, as an unknown id is. Bodies are JSON
(`payloads.json_body`), as for every body the API reads, though browsers do not send a Bearer token
on their own."""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from booking_core import InvalidInput, Practitioner, TimeRange
from booking_web.answers import (
    CalendarFeedJson,
    MeJson,
    PractitionerBookingJson,
    PractitionerBookingListJson,
)
from booking_web.bootstrap import service_of
from booking_web.calendar_feed import feed_url, feeds_of
from booking_web.converter import json_response
from booking_web.current_practitioner import bearer_practitioner, cancel_as_practitioner
from booking_web.local_days import days_window
from booking_web.payloads import (
    PractitionerCancelBody,
    PractitionerRescheduleBody,
    json_body,
    parse_date,
    parse_statuses,
)


async def get_me(request: Request) -> Response:
    practitioner = await bearer_practitioner(request)
    return json_response(MeJson.of_signed_in(practitioner))


async def list_my_bookings(request: Request) -> Response:
    practitioner = await bearer_practitioner(request)
    params = request.query_params
    window = _days(params, practitioner)
    statuses = parse_statuses(params.getlist("status"))
    found = await service_of(request).bookings_of(practitioner.id, window, statuses)
    answer = PractitionerBookingListJson([PractitionerBookingJson.of(b, practitioner) for b in found])
    return json_response(answer)


async def get_my_booking(request: Request) -> Response:
    practitioner = await bearer_practitioner(request)
    service = service_of(request)
    booking = await service.booking_of_practitioner(practitioner.id, request.path_params["booking_id"])
    return json_response(PractitionerBookingJson.of(booking, practitioner))


async def cancel_my_booking(request: Request) -> Response:
    """Cancel one of the practitioner's bookings: a full refund of what is left of the payment, a
    hold released; a session that has started is refused (409 session_started)."""
    practitioner = await bearer_practitioner(request)
    body = await json_body(request, PractitionerCancelBody)
    cancelled = await cancel_as_practitioner(request, practitioner, body.reason)
    return json_response(PractitionerBookingJson.of(cancelled, practitioner))


async def reschedule_my_booking(request: Request) -> Response:
    """Move one of the practitioner's bookings to any free start still to come (their notice,
    schedule and the client's move count do not bind them); 409 when the time is taken."""
    practitioner = await bearer_practitioner(request)
    body = await json_body(request, PractitionerRescheduleBody)
    service = service_of(request)
    booking = await service.booking_of_practitioner(practitioner.id, request.path_params["booking_id"])
    moved = await service.reschedule_for_practitioner(booking.id, body.start, body.reason)
    return json_response(PractitionerBookingJson.of(moved, practitioner))


async def mark_no_show(request: Request) -> Response:
    """The client did not come: within 7 days after the session's end (409 session_not_over before
    it, no_show_window_closed after; session_not_held for a booking that was not confirmed)."""
    practitioner = await bearer_practitioner(request)
    booking_id = request.path_params["booking_id"]
    marked = await service_of(request).mark_no_show(practitioner.id, booking_id)
    return json_response(PractitionerBookingJson.of(marked, practitioner))


async def undo_no_show(request: Request) -> Response:
    """Take a no-show back (same window): the session counts as completed."""
    practitioner = await bearer_practitioner(request)
    booking_id = request.path_params["booking_id"]
    undone = await service_of(request).undo_no_show(practitioner.id, booking_id)
    return json_response(PractitionerBookingJson.of(undone, practitioner))


async def get_my_calendar(request: Request) -> Response:
    """The feed's address, created on the first ask and the same on every later one."""
    practitioner = await bearer_practitioner(request)
    token = await feeds_of(request).token(practitioner.id)
    return json_response(CalendarFeedJson(feed_url(request.app.state.settings, token)))


async def rotate_my_calendar(request: Request) -> Response:
    practitioner = await bearer_practitioner(request)
    token = await feeds_of(request).rotate(practitioner.id)
    return json_response(CalendarFeedJson(feed_url(request.app.state.settings, token)))


def _days(params: QueryParams, practitioner: Practitioner) -> TimeRange:
    """`start` to `end`, both required: whole days in the practitioner's time zone."""
    missing = {name: "Give a date of the form YYYY-MM-DD." for name in ("start", "end") if name not in params}
    if missing:
        raise InvalidInput(missing)
    first, last = parse_date(params["start"], "start"), parse_date(params["end"], "end")
    return TimeRange(*days_window(first, last, practitioner.timezone))


routes = [
    Route("/api/me", get_me, methods=["GET"]),
    Route("/api/me/bookings", list_my_bookings, methods=["GET"]),
    Route("/api/me/bookings/{booking_id}", get_my_booking, methods=["GET"]),
    Route("/api/me/bookings/{booking_id}/cancel", cancel_my_booking, methods=["POST"]),
    Route("/api/me/bookings/{booking_id}/reschedule", reschedule_my_booking, methods=["POST"]),
    Route("/api/me/bookings/{booking_id}/no-show", mark_no_show, methods=["POST"]),
    Route("/api/me/bookings/{booking_id}/no-show", undo_no_show, methods=["DELETE"]),
    Route("/api/me/calendar", get_my_calendar, methods=["GET"]),
    Route("/api/me/calendar/rotate", rotate_my_calendar, methods=["POST"]),
]
