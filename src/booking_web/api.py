"""The JSON API. Endpoints parse, call one use case and shape the answer; errors are the handlers' job."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from booking_core import BookingRequest, InvalidInput
from booking_web.answers import (
    BookingJson,
    MovedBookingJson,
    NewBookingJson,
    PractitionerJson,
    PractitionerListJson,
)
from booking_web.availability_answers import AvailabilityAnswers
from booking_web.bootstrap import service_of
from booking_web.checkout_checks import CheckoutChecks
from booking_web.converter import json_response
from booking_web.payloads import BookingBody, CancelBody, RescheduleBody, json_body

MAX_IDEMPOTENCY_KEY = 255


async def list_practitioners(request: Request) -> Response:
    practitioners = await service_of(request).directory.list()
    return json_response(PractitionerListJson([PractitionerJson.of(p) for p in practitioners]))


async def get_practitioner(request: Request) -> Response:
    practitioner = await service_of(request).practitioner(request.path_params["practitioner_id"])
    return json_response(PractitionerJson.of(practitioner))


async def get_availability(request: Request) -> Response:
    answers: AvailabilityAnswers = request.app.state.availability_answers
    answer = await answers.answer(request.path_params["practitioner_id"], request.scope["query_string"])
    return Response(answer.body, media_type="application/json")


async def create_booking(request: Request) -> Response:
    body = await json_body(request, BookingBody)
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise InvalidInput({"Idempotency-Key": f"Use 1 to {MAX_IDEMPOTENCY_KEY} characters."})
    service = service_of(request)
    hold = await service.request_booking(
        BookingRequest(
            practitioner_id=body.practitioner_id,
            start=body.start,
            name=body.name,
            email=body.email,
            phone=body.phone,
            timezone=body.timezone,
            service_id=body.service_id,
            idempotency_key=key,
            client_address=request.client.host if request.client else None,
        )
    )
    answer = NewBookingJson.held(hold.booking, hold.practitioner, hold.cancel_token)
    return json_response(answer, 201, headers={"Location": f"/api/bookings/{answer.id}"})


async def get_booking(request: Request) -> Response:
    service = service_of(request)
    booking = await service.booking(request.path_params["booking_id"])
    checks: CheckoutChecks = request.app.state.checkout_checks
    booking = await checks.refresh(booking)  # a client polling for its confirmation
    return json_response(BookingJson.of(booking, await service.practitioner_of(booking)))


async def cancel_booking(request: Request) -> Response:
    body = await json_body(request, CancelBody)
    service = service_of(request)
    booking = await service.cancel_booking(request.path_params["booking_id"], body.cancel_token)
    return json_response(BookingJson.of(booking, await service.practitioner_of(booking)))


async def reschedule_booking(request: Request) -> Response:
    """The client moves their booking (with its cancel token) to another offered start of its service."""
    body = await json_body(request, RescheduleBody)
    service = service_of(request)
    booking = await service.reschedule_booking(
        request.path_params["booking_id"], body.cancel_token, body.start
    )
    return json_response(MovedBookingJson.moved(booking, await service.practitioner_of(booking)))


routes = [
    # The most requested first: the router tries routes in order.
    Route("/api/practitioners/{practitioner_id}/availability", get_availability, methods=["GET"]),
    Route("/api/practitioners", list_practitioners, methods=["GET"]),
    Route("/api/practitioners/{practitioner_id}", get_practitioner, methods=["GET"]),
    Route("/api/bookings", create_booking, methods=["POST"]),
    Route("/api/bookings/{booking_id}", get_booking, methods=["GET"]),
    Route("/api/bookings/{booking_id}/cancel", cancel_booking, methods=["POST"]),
    Route("/api/bookings/{booking_id}/reschedule", reschedule_booking, methods=["POST"]),
]
