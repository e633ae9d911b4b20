"""What `GET /api/practitioners/{id}/availability` answers, as a port: the endpoint asks an
AvailabilityAnswers and does not know whether the answer was computed or kept
(`booking_web.availability_cache.AvailabilityCache` is one over this computing one).

The port works on the query string as sent and the encoded body, not on `Availability`: a kept
answer then costs neither the practitioner's lookup, the query's parsing nor the JSON encoding
(for a week of slots the encoding alone costs about four times a whole cached answer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from attrs import frozen
from starlette.datastructures import QueryParams

from booking_core import AvailabilitySourceName, BookingService, TimeRange, unchanged_until
from booking_web.answers import AvailabilityJson
from booking_web.local_days import days_after, days_window, today_in
from booking_web.payloads import parse_date, parse_timezone

DEFAULT_DAYS = 7
# Cal.com answers change outside this service; its adapter keeps them for CALCOM_CACHE_TTL_SECONDS.
REUSABLE_SOURCES = (AvailabilitySourceName.SCHEDULE,)


@frozen
class AvailabilityAnswer:
    body: bytes  # the JSON document
    # Whether the same query may be answered with this body again until a booking or the
    # practitioner changes (not when the days follow the calendar, nor for Cal.com's answers).
    reusable: bool
    unchanged_until: datetime | None = None  # when time alone changes it (a slot entering notice)


class AvailabilityAnswers(Protocol):
    async def answer(self, practitioner_id: str, query: bytes) -> AvailabilityAnswer:
        """The answer to `query` (the URL's query string as sent). Raises the service's errors
        (unknown practitioner, invalid input, a provider that cannot answer)."""
        ...


class ComputedAvailabilityAnswers:
    """Every answer computed: the practitioner, the query parsed, the service's use case, JSON."""

    def __init__(self, service: BookingService) -> None:
        self._service = service

    async def answer(self, practitioner_id: str, query: bytes) -> AvailabilityAnswer:
        service = self._service
        practitioner = await service.practitioner(practitioner_id)
        now = service.clock.now()
        params = QueryParams(query)
        timezone = parse_timezone(params.get("timezone") or practitioner.timezone)
        window = self._window(params, timezone)
        availability = await service.list_availability(practitioner.id, window, params.get("service"))
        body = AvailabilityJson.encoded(availability, timezone)
        # Without a start the days follow the calendar ("today"); changes void answers by the
        # practitioner's id, so one asked for under another spelling of it is not reused.
        named = "start" in params and practitioner.id == practitioner_id
        if not (named and availability.source in REUSABLE_SOURCES):
            return AvailabilityAnswer(body, reusable=False)
        offer = practitioner.offer_for(practitioner.service(availability.service_id))
        until = unchanged_until(availability.slots, offer, window, now)
        return AvailabilityAnswer(body, reusable=True, unchanged_until=until)

    def _window(self, params: QueryParams, timezone: str) -> TimeRange:
        """The local days asked for: `start` (default today) to `end` (default a week on)."""
        if "start" in params:
            first = parse_date(params["start"], "start")
        else:
            first = today_in(timezone, self._service.clock)
        if "end" in params:
            return TimeRange(*days_window(first, parse_date(params["end"], "end"), timezone))
        # Without an end the days follow the start: a problem with them is the start's.
        last = days_after(first, DEFAULT_DAYS - 1, "start")
        return TimeRange(*days_window(first, last, timezone, end_field="start"))
