"""The signed-in practitioner's time off in the JSON API (`Authorization: Bearer <token>`): add a
block (refused with 409 `time_off_conflicts` over live bookings), list those not yet over, remove
one. Times are answered in the practitioner's time zone."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from booking_web.answers import TimeOffJson, TimeOffListJson
from booking_web.bootstrap import service_of
from booking_web.converter import json_response
from booking_web.current_practitioner import bearer_practitioner
from booking_web.payloads import TimeOffBody, json_body
from booking_web.time_off_input import time_off_span


async def add_time_off(request: Request) -> Response:
    practitioner = await bearer_practitioner(request)
    body = await json_body(request, TimeOffBody)
    span = time_off_span(body.start, body.end, practitioner.timezone)
    taken = await service_of(request).add_time_off(practitioner.id, span, body.note)
    return json_response(
        TimeOffJson.of(taken, practitioner.timezone),
        201,
        headers={"Location": f"/api/me/time-off/{taken.id}"},
    )


async def list_time_off(request: Request) -> Response:
    practitioner = await bearer_practitioner(request)
    upcoming = await service_of(request).upcoming_time_off(practitioner.id)
    return json_response(TimeOffListJson([TimeOffJson.of(t, practitioner.timezone) for t in upcoming]))


async def remove_time_off(request: Request) -> Response:
    practitioner = await bearer_practitioner(request)
    await service_of(request).remove_time_off(practitioner.id, request.path_params["time_off_id"])
    return Response(status_code=204)


routes = [
    Route("/api/me/time-off", add_time_off, methods=["POST"]),
    Route("/api/me/time-off", list_time_off, methods=["GET"]),
    Route("/api/me/time-off/{time_off_id}", remove_time_off, methods=["DELETE"]),
]
