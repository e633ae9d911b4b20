"""The JSON API. Endpoints parse, call one use case and shape the answer; errors are the handlers' job."""

from __future__ import annotations

from typing import TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from booking_core import AvailabilitySourceName, BookingRequest, InvalidInput, TimeRange, unchanged_until
from booking_web.availability_cache import AvailabilityCache
from booking_web.bootstrap import service_of
from booking_web.checkout_checks import CheckoutChecks
from booking_web.local_days import days_after, days_window, today_in
from booking_web.payloads import (
    BookingBody,
    CancelBody,
    availability_json,
    booking_json,
    parse_body,
    parse_date,
    parse_timezone,
    practitioner_json,
    require_json,
)

T = TypeVar("T")

DEFAULT_DAYS = 7
MAX_IDEMPOTENCY_KEY = 255
# Cal.com answers change outside this service; its adapter keeps them for CALCOM_CACHE_TTL_SECONDS.
CACHEABLE_SOURCES = (AvailabilitySourceName.SCHEDULE,)
MAX_CACHED_QUERY = 200  # bytes of query string: longer ones are answered, not kept


async def list_practitioners(request: Request) -> Response:
    practitioners = await service_of(request).directory.list()
    return JSONResponse({"practitioners": [practitioner_json(p) for p in practitioners]})


async def get_practitioner(request: Request) -> Response:
    practitioner = await service_of(request).practitioner(request.path_params["practitioner_id"])
    return JSONResponse(practitioner_json(practitioner))


async def get_availability(request: Request) -> Response:
    """Answers to a query that names its start are kept per exact query string: a cached answer
    costs neither the practitioner's lookup nor parsing (a changed practitioner voids them)."""
    cache: AvailabilityCache = request.app.state.availability_cache
    practitioner_id = request.path_params["practitioner_id"]
    key = (practitioner_id, request.scope["query_string"])
    body = cache.get(key, practitioner_id)
    cached = body is not None
    if body is None:
        body = await _compute_availability(request, cache, key)
    request.app.state.metrics.count_availability(cached=cached)
    return Response(body, media_type="application/json")


async def _compute_availability(request: Request, cache: AvailabilityCache, key: tuple[str, bytes]) -> bytes:
    service = service_of(request)
    practitioner = await service.practitioner(key[0])
    ticket, now = cache.ticket(practitioner.id), service.clock.now()
    query = request.query_params
    timezone = parse_timezone(query.get("timezone") or practitioner.timezone)
    first = parse_date(query["start"], "start") if "start" in query else today_in(timezone, service.clock)
    # Without an end the days follow the start: a problem with them is the start's.
    end_field = "end" if "end" in query else "start"
    last = parse_date(query["end"], "end") if "end" in query else days_after(first, DEFAULT_DAYS - 1, "start")
    window = TimeRange(*days_window(first, last, timezone, end_field=end_field))
    availability = await service.list_availability(practitioner.id, window)
    body = bytes(JSONResponse(availability_json(availability, timezone)).body)
    # Without a start the days follow the calendar ("today"), so such answers are not kept.
    keep = availability.source in CACHEABLE_SOURCES and "start" in query and len(key[1]) <= MAX_CACHED_QUERY
    if keep and practitioner.id == key[0]:  # changes void answers by the practitioner's id
        until = unchanged_until(availability.slots, practitioner.offer, window, now)
        cache.put(key, practitioner.id, ticket, body, None if until is None else until.timestamp())
    return body


async def create_booking(request: Request) -> Response:
    body = await _json_body(request, BookingBody)
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
            idempotency_key=key,
            client_address=request.client.host if request.client else None,
        )
    )
    booking = hold.booking
    answer = booking_json(booking, hold.practitioner) | {
        "checkout_url": booking.checkout_url,
        "checkout_session_id": booking.checkout_session_id,
        "cancel_token": hold.cancel_token,
    }
    return JSONResponse(answer, 201, headers={"Location": f"/api/bookings/{booking.id}"})


async def _json_body(request: Request, shape: type[T]) -> T:
    require_json(request.headers.get("content-type"))
    return parse_body(await request.body(), shape)


async def get_booking(request: Request) -> Response:
    service = service_of(request)
    booking = await service.booking(request.path_params["booking_id"])
    checks: CheckoutChecks = request.app.state.checkout_checks
    booking = await checks.refresh(booking)  # a client polling for its confirmation
    return JSONResponse(booking_json(booking, await service.practitioner_of(booking)))


async def cancel_booking(request: Request) -> Response:
    body = await _json_body(request, CancelBody)
    service = service_of(request)
    booking = await service.cancel_booking(request.path_params["booking_id"], body.cancel_token)
    return JSONResponse(booking_json(booking, await service.practitioner_of(booking)))


routes = [
    # The most requested first: the router tries routes in order.
    Route("/api/practitioners/{practitioner_id}/availability", get_availability, methods=["GET"]),
    Route("/api/practitioners", list_practitioners, methods=["GET"]),
    Route("/api/practitioners/{practitioner_id}", get_practitioner, methods=["GET"]),
    Route("/api/bookings", create_booking, methods=["POST"]),
    Route("/api/bookings/{booking_id}", get_booking, methods=["GET"]),
    Route("/api/bookings/{booking_id}/cancel", cancel_booking, methods=["POST"]),
]
