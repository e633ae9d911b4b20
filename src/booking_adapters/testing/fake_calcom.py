"""A fake Cal.com API v2 (Starlette) following Cal.com's published API (excerpt in
tests/specs/calcom/): slots, reservations, bookings, cancel, reschedule, and the
`{"status": "error", "error": {...}}` error shape.

Slots come from a per-event-type weekly pattern (the core's WeeklySchedule) or an explicit list,
minus the fake's own bookings (but the one `bookingUidToReschedule` names) and reservations.
Switches make it slow, rate-limited, failing, garbled or hanging for the next N requests;
`FakeCalcomServer` runs it under uvicorn on 127.0.0.1 and can take it down and bring it back on
the same port. `calls` counts requests per path.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import uvicorn
from attrs import define, field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from booking_core import TimeRange, WeeklySchedule, slot_grid, zone

FAKE_API_KEY = "cal_test_fake_key"
SLOTS_VERSION = "2024-09-04"
BOOKINGS_VERSION = "2024-08-13"
SLOT_TAKEN_MESSAGE = "User either already has booking at this time or is not available"
FOREVER = 10**9  # a switch count that never runs out


@define
class FakeEventType:
    id: int
    length: timedelta
    schedule: WeeklySchedule | None = None
    slots: list[TimeRange] | None = None  # an explicit list wins over the schedule
    slug: str = "session"
    step: timedelta | None = None  # between slot starts; Cal.com's "slot interval", the length by default


@define
class FakeCalcom:
    api_key: str = FAKE_API_KEY
    event_types: dict[int, FakeEventType] = field(factory=dict)
    bookings: dict[str, dict[str, Any]] = field(factory=dict)  # by uid, as BookingOutput_2024_08_13
    reservations: dict[str, dict[str, Any]] = field(factory=dict)  # by uid, never expire on their own
    calls: Counter[str] = field(factory=Counter)
    # switches: each affects the next N requests (FOREVER for all of them)
    delay_seconds: float = 0.0
    hang_next: int = 0
    hang_seconds: float = 5.0
    rate_limit_next: int = 0
    retry_after_seconds: int = 1
    error_500_next: int = 0
    malformed_next: int = 0
    _ids: itertools.count[int] = field(factory=lambda: itertools.count(1))

    def add_event_type(self, event_type: FakeEventType) -> None:
        self.event_types[event_type.id] = event_type

    def book_directly(
        self, event_type_id: int, start: datetime, metadata: dict[str, str] | None = None
    ) -> str:
        """A booking made in Cal.com itself (the practitioner, or someone on their Cal.com page)."""
        event_type = self.event_types[event_type_id]
        attendee = {"name": "Someone Else", "timeZone": "UTC"}
        booking = self._booking(event_type, start, attendee, metadata or {})
        self.bookings[booking["uid"]] = booking
        return str(booking["uid"])

    def live_bookings(self) -> list[dict[str, Any]]:
        return [b for b in self.bookings.values() if b["status"] != "cancelled"]

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v2/slots", self._slots, methods=["GET"]),
                Route("/v2/slots/reservations", self._reserve, methods=["POST"]),
                Route("/v2/slots/reservations/{uid}", self._unreserve, methods=["DELETE"]),
                Route("/v2/bookings", self._create_booking, methods=["POST"]),
                Route("/v2/bookings", self._list_bookings, methods=["GET"]),
                Route("/v2/bookings/{uid}", self._get_booking, methods=["GET"]),
                Route("/v2/bookings/{uid}/cancel", self._cancel_booking, methods=["POST"]),
                Route("/v2/bookings/{uid}/reschedule", self._reschedule_booking, methods=["POST"]),
            ],
        )

    # -- switches and checks every request passes ------------------------------------------------

    async def _gate(self, request: Request, version: str) -> Response | None:
        self.calls[request.url.path] += 1
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self._take("hang_next"):
            await asyncio.sleep(self.hang_seconds)
        if self._take("rate_limit_next"):
            return _error(
                429, "ThrottlerException", "Too Many Requests", {"Retry-After": str(self.retry_after_seconds)}
            )
        if self._take("error_500_next"):
            return _error(500, "InternalServerErrorException", "Internal server error")
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "UnauthorizedException", "Invalid Access Token.")
        if request.headers.get("cal-api-version") != version:
            return _error(400, "BadRequestException", f"cal-api-version must be {version}")
        if self._take("malformed_next"):
            return Response(b'{"status": "success", "data": {', media_type="application/json")
        return None

    def _take(self, switch: str) -> bool:
        left = getattr(self, switch)
        if left > 0:
            setattr(self, switch, left - 1)
        return bool(left > 0)

    # -- slots ---------------------------------------------------------------------------------

    async def _slots(self, request: Request) -> Response:
        if refused := await self._gate(request, SLOTS_VERSION):
            return refused
        query = request.query_params
        event_type = self.event_types.get(_int(query.get("eventTypeId")))
        if event_type is None:
            return _error(404, "NotFoundException", "Event type not found")
        try:
            window = TimeRange(_instant(query["start"], end=False), _instant(query["end"], end=True))
            tz = zone(query.get("timeZone", "UTC"))
        except (KeyError, ValueError) as error:
            return _error(400, "BadRequestException", f"invalid query: {error}")
        days: dict[str, list[dict[str, str]]] = {}
        # As Cal.com does: the booking being rescheduled does not take its own time.
        for slot in self._free(event_type, window, query.get("bookingUidToReschedule", "")):
            start, end = slot.start.astimezone(tz), slot.end.astimezone(tz)
            item = {"start": _iso(start)}
            if query.get("format") == "range":
                item["end"] = _iso(end)
            days.setdefault(start.date().isoformat(), []).append(item)
        return JSONResponse({"status": "success", "data": days})

    def _offered(self, event_type: FakeEventType, window: TimeRange) -> list[TimeRange]:
        if event_type.slots is not None:
            return sorted(s for s in event_type.slots if window.start <= s.start < window.end)
        if event_type.schedule is None:
            return []
        return slot_grid(event_type.schedule, window, event_type.length, event_type.step or event_type.length)

    def _free(self, event_type: FakeEventType, window: TimeRange, ignoring: str = "") -> list[TimeRange]:
        """Offered slots no booking (but the one `ignoring` names: it is moving) nor reservation takes."""
        bookings = [b for b in self.live_bookings() if b["uid"] != ignoring]
        taken = [_span(b) for b in bookings] + [_span(r) for r in self.reservations.values()]
        return [s for s in self._offered(event_type, window) if not any(s.overlaps(t) for t in taken)]

    # -- reservations --------------------------------------------------------------------------

    async def _reserve(self, request: Request) -> Response:
        if refused := await self._gate(request, SLOTS_VERSION):
            return refused
        body = await _json(request)
        event_type = self.event_types.get(_int(body.get("eventTypeId")))
        if event_type is None:
            return _error(404, "NotFoundException", "Event type not found")
        try:
            start = _instant(str(body["slotStart"]), end=False)
        except (KeyError, ValueError):
            return _error(400, "BadRequestException", "slotStart must be an ISO 8601 instant")
        slot = TimeRange.of(
            start, timedelta(minutes=int(body.get("slotDuration") or event_type.length.seconds // 60))
        )
        if slot not in self._free(event_type, TimeRange.of(slot.start, timedelta(seconds=1))):
            return _error(
                422, "UnprocessableEntityException", "This time slot is already reserved or booked."
            )
        minutes = int(body.get("reservationDuration") or 5)
        reservation: dict[str, Any] = {
            "eventTypeId": event_type.id,
            "slotStart": _iso(slot.start),
            "slotEnd": _iso(slot.end),
            "slotDuration": int(slot.duration.total_seconds() // 60),
            "reservationUid": f"fake-rsv-{next(self._ids)}",
            "reservationDuration": minutes,
            "reservationUntil": _iso(datetime.now(UTC) + timedelta(minutes=minutes)),
        }
        self.reservations[reservation["reservationUid"]] = reservation
        return JSONResponse({"status": "success", "data": reservation}, status_code=201)

    async def _unreserve(self, request: Request) -> Response:
        if refused := await self._gate(request, SLOTS_VERSION):
            return refused
        if self.reservations.pop(request.path_params["uid"], None) is None:
            return _error(404, "NotFoundException", "Reservation not found")
        return JSONResponse({"status": "success"})

    # -- bookings ------------------------------------------------------------------------------

    async def _create_booking(self, request: Request) -> Response:
        if refused := await self._gate(request, BOOKINGS_VERSION):
            return refused
        body = await _json(request)
        attendee = body.get("attendee")
        if not isinstance(attendee, dict) or not attendee.get("name") or not attendee.get("timeZone"):
            return _error(400, "BadRequestException", "attendee needs name and timeZone")
        event_type = self.event_types.get(_int(body.get("eventTypeId")))
        if event_type is None:
            return _error(404, "NotFoundException", "Event type not found")
        try:
            slot = TimeRange.of(_instant(str(body["start"]), end=False), event_type.length)
        except (KeyError, ValueError):
            return _error(400, "BadRequestException", "start must be an ISO 8601 instant in UTC")
        if any(slot.overlaps(_span(r)) for r in self.reservations.values()):
            return _error(409, "ConflictException", "This time slot is reserved by someone else.")
        if slot not in self._free(event_type, TimeRange.of(slot.start, timedelta(seconds=1))):
            return _error(400, "BadRequestException", SLOT_TAKEN_MESSAGE)
        booking = self._booking(event_type, slot.start, attendee, body.get("metadata") or {})
        self.bookings[booking["uid"]] = booking
        return JSONResponse({"status": "success", "data": booking}, status_code=201)

    async def _list_bookings(self, request: Request) -> Response:
        if refused := await self._gate(request, BOOKINGS_VERSION):
            return refused
        query = request.query_params
        found = list(self.bookings.values())
        if "eventTypeId" in query:
            found = [b for b in found if b["eventTypeId"] == _int(query["eventTypeId"])]
        if "afterStart" in query:
            found = [b for b in found if _span(b).start >= _instant(query["afterStart"], end=False)]
        if "beforeEnd" in query:
            found = [b for b in found if _span(b).end <= _instant(query["beforeEnd"], end=True)]
        pagination = {
            "totalItems": len(found),
            "remainingItems": 0,
            "returnedItems": len(found),
            "itemsPerPage": max(1, len(found)),
            "currentPage": 1,
            "totalPages": 1,
            "hasNextPage": False,
            "hasPreviousPage": False,
        }
        return JSONResponse({"status": "success", "data": found, "pagination": pagination})

    async def _booking_or_refusal(self, request: Request) -> dict[str, Any] | Response:
        """The booking the path's uid names, or the answer refusing the request (the gate's, or 404)."""
        if refused := await self._gate(request, BOOKINGS_VERSION):
            return refused
        booking = self.bookings.get(request.path_params["uid"])
        if booking is None:
            return _error(404, "NotFoundException", "Booking not found")
        return booking

    async def _get_booking(self, request: Request) -> Response:
        booking = await self._booking_or_refusal(request)
        if isinstance(booking, Response):
            return booking
        return JSONResponse({"status": "success", "data": booking})

    async def _cancel_booking(self, request: Request) -> Response:
        booking = await self._booking_or_refusal(request)
        if isinstance(booking, Response):
            return booking
        if booking["status"] == "cancelled":
            return _error(400, "BadRequestException", "This booking has already been cancelled.")
        body = await _json(request)
        booking.update(status="cancelled", updatedAt=_iso(datetime.now(UTC)))
        if body.get("cancellationReason"):
            booking["cancellationReason"] = str(body["cancellationReason"])
        return JSONResponse({"status": "success", "data": booking})

    async def _reschedule_booking(self, request: Request) -> Response:
        """As Cal.com does: a new booking at the new time (new uid, `rescheduledFromUid`), the old
        one cancelled with `rescheduledToUid`; the new time must be free but for the old booking."""
        old = await self._booking_or_refusal(request)
        if isinstance(old, Response):
            return old
        if old["status"] == "cancelled":
            return _error(400, "BadRequestException", "Cannot reschedule a cancelled booking.")
        body = await _json(request)
        event_type = self.event_types[old["eventTypeId"]]
        try:
            slot = TimeRange.of(_instant(str(body["start"]), end=False), event_type.length)
        except (KeyError, ValueError):
            return _error(400, "BadRequestException", "start must be an ISO 8601 instant in UTC")
        if slot not in self._free(event_type, TimeRange.of(slot.start, timedelta(seconds=1)), old["uid"]):
            return _error(400, "BadRequestException", SLOT_TAKEN_MESSAGE)
        new = self._booking(event_type, slot.start, old["attendees"][0], old["metadata"])
        new["rescheduledFromUid"] = old["uid"]
        if body.get("reschedulingReason"):
            new["reschedulingReason"] = str(body["reschedulingReason"])
        old.update(status="cancelled", rescheduledToUid=new["uid"], updatedAt=_iso(datetime.now(UTC)))
        self.bookings[new["uid"]] = new
        return JSONResponse({"status": "success", "data": new}, status_code=201)

    def _booking(
        self, event_type: FakeEventType, start: datetime, attendee: dict[str, Any], metadata: dict[str, Any]
    ) -> dict[str, Any]:
        number = next(self._ids)
        now = _iso(datetime.now(UTC))
        return {
            "id": number,
            "uid": f"fake-bk-{number}",
            "title": f"{event_type.slug} with {attendee['name']}",
            "description": "",
            "hosts": [
                {
                    "id": 1,
                    "name": "Practitioner",
                    "email": "host@example.invalid",
                    "username": "host",
                    "timeZone": "UTC",
                }
            ],
            "status": "accepted",
            "start": _iso(start),
            "end": _iso(start + event_type.length),
            "duration": int(event_type.length.total_seconds() // 60),
            "eventTypeId": event_type.id,
            "eventType": {"id": event_type.id, "slug": event_type.slug},
            "location": "",
            "absentHost": False,
            "createdAt": now,
            "updatedAt": now,
            "metadata": {str(k): str(v) for k, v in metadata.items()},
            "attendees": [
                {
                    "name": str(attendee["name"]),
                    "email": str(attendee.get("email") or "someone@example.invalid"),
                    "timeZone": str(attendee["timeZone"]),
                    "absent": False,
                    **({"phoneNumber": str(attendee["phoneNumber"])} if attendee.get("phoneNumber") else {}),
                }
            ],
            "guests": [],
            "bookingFieldsResponses": {},
        }


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {
        "status": "error",
        "timestamp": _iso(datetime.now(UTC)),
        "error": {"code": code, "message": message},
    }
    return JSONResponse(body, status_code=status, headers=headers)


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return -1


def _instant(text: str, *, end: bool) -> datetime:
    """Cal.com's query instants: UTC ISO 8601, or a bare date (its start, or its end for `end`)."""
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=UTC)
    instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return instant.astimezone(UTC)


def _iso(instant: datetime) -> str:
    """Cal.com's style: milliseconds and the offset of the zone asked for."""
    return instant.isoformat(timespec="milliseconds")


def _span(item: dict[str, Any]) -> TimeRange:
    start, end = (item["start"], item["end"]) if "start" in item else (item["slotStart"], item["slotEnd"])
    return TimeRange(datetime.fromisoformat(start), datetime.fromisoformat(end))


@define
class FakeCalcomServer:
    """The fake under uvicorn in a thread on 127.0.0.1; `down()` refuses connections until `up()`."""

    fake: FakeCalcom
    port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.fake.app(), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        for _ in range(500):  # bounded: uvicorn starts in milliseconds
            if self._server.started:
                return
            threading.Event().wait(0.01)
        raise RuntimeError("the fake Cal.com server did not start")

    def down(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None


@contextmanager
def serve_fake_calcom(fake: FakeCalcom) -> Iterator[FakeCalcomServer]:
    server = FakeCalcomServer(fake)
    server.up()
    try:
        yield server
    finally:
        server.down()
