"""The JSON API of the signed-in practitioner (`Authorization: Bearer <token>`, from
`booking practitioners token ID`): who they are, their bookings. Each endpoint resolves the
practitioner first, so a request without a valid token is 401 before anything is read."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from booking_web.answers import MeJson
from booking_web.converter import json_response
from booking_web.current_practitioner import bearer_practitioner


async def get_me(request: Request) -> Response:
    practitioner = await bearer_practitioner(request)
    return json_response(MeJson.of_signed_in(practitioner))


routes = [
    Route("/api/me", get_me, methods=["GET"]),
]
