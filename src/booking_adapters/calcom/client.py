"""Cal.com API v2 over one shared httpx.AsyncClient: timeouts, retries, errors in the domain's words.

Transient trouble (connection errors, timeouts, 429, 5xx, a garbled body) is retried with
exponential backoff and jitter, honouring Retry-After; a 4xx is final at once. Whatever is left
becomes AvailabilityProviderError with a message an operator can act on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
from attrs import define, frozen
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_exponential_jitter

from booking_adapters.calcom.metrics import CALCOM_REQUESTS
from booking_adapters.calcom.settings import CalcomSettings
from booking_core import AvailabilityProviderError, TimeRange

log = logging.getLogger(__name__)

SLOTS_API_VERSION = "2024-09-04"
BOOKINGS_API_VERSION = "2024-08-13"

Sleep = Callable[[float], Awaitable[None]]

_SLOT_TAKEN = re.compile(r"already\s+has\s+(a\s+)?booking|booking\s+already\s+exists", re.IGNORECASE)
# Cal.com's validation messages may echo what we sent; keep contact details out of our logs.
_EMAIL = re.compile(r"[^\s\"']+@[^\s\"']+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")


class CalcomSlotTaken(AvailabilityProviderError):
    """Cal.com refused a booking because its calendar already has one at that time."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class CalcomNotFound(AvailabilityProviderError):
    """Cal.com does not know the event type or booking we named (HTTP 404)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class _Transient(Exception):
    """Worth another try; `retry_after` is what the server asked us to wait, if it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@frozen
class CalcomAttendee:
    name: str
    email: str
    time_zone: str
    phone_number: str | None = None


def open_http(
    settings: CalcomSettings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one client per process: its connection pool is shared by every request."""
    timeout = httpx.Timeout(
        connect=settings.connect_timeout_seconds,
        read=settings.read_timeout_seconds,
        write=settings.read_timeout_seconds,
        pool=settings.connect_timeout_seconds,
    )
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    return httpx.AsyncClient(
        base_url=settings.api_base,
        timeout=timeout,
        headers=headers,
        transport=transport,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )


@define
class CalcomClient:
    http: httpx.AsyncClient
    settings: CalcomSettings
    sleep: Sleep = asyncio.sleep  # tests record the waits instead of sleeping

    # -- slots ---------------------------------------------------------------------------------

    async def slot_starts(
        self, event_type_id: int, window: TimeRange, time_zone: str, rescheduling: str | None = None
    ) -> list[datetime]:
        """Starts of the slots Cal.com offers for the event type within `window`, in UTC; with
        `rescheduling` (the uid of a Cal.com booking being moved), as if that booking were not there
        (`bookingUidToReschedule`: its own time is offered, so it may move by less than its length)."""
        params = {
            "eventTypeId": str(event_type_id),
            "start": _utc(window.start),
            "end": _utc(window.end),
            "timeZone": time_zone,
            "format": "range",
        }
        if rescheduling is not None:
            params["bookingUidToReschedule"] = rescheduling
        body = await self._call("GET", "/v2/slots", SLOTS_API_VERSION, "slots", params=params)
        return _parse_slot_starts(body)

    # -- bookings ------------------------------------------------------------------------------

    async def create_booking(
        self, event_type_id: int, start: datetime, attendee: CalcomAttendee, metadata: Mapping[str, str]
    ) -> str:
        """Create the booking in Cal.com and return its uid; CalcomSlotTaken if the time is taken there."""
        attendee_json = {"name": attendee.name, "email": attendee.email, "timeZone": attendee.time_zone}
        if attendee.phone_number:
            attendee_json["phoneNumber"] = attendee.phone_number
        payload = {
            "start": _utc(start),
            "eventTypeId": event_type_id,
            "attendee": attendee_json,
            "metadata": dict(metadata),
        }
        body = await self._call("POST", "/v2/bookings", BOOKINGS_API_VERSION, "create_booking", json=payload)
        return _uid_of(body)

    async def reschedule_booking(self, uid: str, start: datetime, reason: str) -> str:
        """Move the Cal.com booking to `start`. Cal.com makes a new booking of it (a new uid, which
        this returns) and leaves the old one cancelled, its `rescheduledToUid` naming the new one.
        CalcomSlotTaken if the time is taken there."""
        body = await self._call(
            "POST",
            f"/v2/bookings/{quote(uid, safe='')}/reschedule",
            BOOKINGS_API_VERSION,
            "reschedule_booking",
            json={"start": _utc(start), "reschedulingReason": reason},
        )
        return _uid_of(body)

    async def cancel_booking(self, uid: str, reason: str) -> None:
        await self._call(
            "POST",
            f"/v2/bookings/{quote(uid, safe='')}/cancel",
            BOOKINGS_API_VERSION,
            "cancel_booking",
            json={"cancellationReason": reason},
        )

    async def get_booking(self, uid: str) -> Mapping[str, Any]:
        return _data(
            await self._call(
                "GET", f"/v2/bookings/{quote(uid, safe='')}", BOOKINGS_API_VERSION, "get_booking"
            )
        )

    async def bookings_between(self, event_type_id: int, window: TimeRange) -> list[Mapping[str, Any]]:
        params = {
            "eventTypeId": str(event_type_id),
            "afterStart": _utc(window.start),
            "beforeEnd": _utc(window.end),
            "take": "100",
        }
        body = await self._call("GET", "/v2/bookings", BOOKINGS_API_VERSION, "list_bookings", params=params)
        data = body.get("data")
        return [b for b in data if isinstance(b, Mapping)] if isinstance(data, list) else []

    # -- one call, with retries ----------------------------------------------------------------

    async def _call(
        self, method: str, path: str, api_version: str, endpoint: str, **kwargs: Any
    ) -> Mapping[str, Any]:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.retry_attempts)
            | _RetryAfterTooLong(self.settings.retry_max_delay_seconds),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(method, path, api_version, endpoint, **kwargs)
        except _Transient as error:
            raise AvailabilityProviderError(f"Cal.com is not answering: {error.message}.") from None
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def _attempt(
        self, method: str, path: str, api_version: str, endpoint: str, **kwargs: Any
    ) -> Mapping[str, Any]:
        try:
            response = await self.http.request(
                method, path, headers={"cal-api-version": api_version}, **kwargs
            )
        except httpx.TimeoutException:
            CALCOM_REQUESTS.labels(endpoint, "timeout").inc()
            raise _Transient("the request timed out") from None
        except httpx.TransportError as error:
            CALCOM_REQUESTS.labels(endpoint, "unreachable").inc()
            raise _Transient(f"cannot connect ({type(error).__name__})") from None
        CALCOM_REQUESTS.labels(endpoint, str(response.status_code)).inc()
        if response.status_code == 429:
            raise _Transient("rate limited (HTTP 429)", _retry_after(response.headers.get("retry-after")))
        if response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise _refusal(response)
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _Transient("the answer was not valid JSON") from None
        if not isinstance(body, Mapping):
            raise AvailabilityProviderError("Cal.com answered in an unexpected shape.", retryable=False)
        return body

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Transient) and error.retry_after is not None:
            return error.retry_after
        backoff = wait_exponential_jitter(
            multiplier=self.settings.retry_first_delay_seconds,
            max=self.settings.retry_max_delay_seconds,
            jitter=self.settings.retry_first_delay_seconds,
        )
        return float(backoff(state))


class _RetryAfterTooLong(stop_base):
    """A Retry-After beyond what one request may wait ends the retries (the caller degrades)."""

    def __init__(self, longest_wait: float) -> None:
        self.longest_wait = longest_wait

    def __call__(self, retry_state: RetryCallState) -> bool:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        return (
            isinstance(error, _Transient)
            and error.retry_after is not None
            and error.retry_after > self.longest_wait
        )


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, from either of its forms (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _refusal(response: httpx.Response) -> AvailabilityProviderError:
    status = response.status_code
    message = _error_message(response)
    if status in (401, 403):
        return AvailabilityProviderError(
            f"Cal.com refused our credentials (HTTP {status}): check CALCOM_API_KEY."
        )  # retryable: fixing the key lets pending write-backs through
    if status == 409 or (status == 400 and _SLOT_TAKEN.search(message)):
        return CalcomSlotTaken(f"Cal.com already has a booking at this time (HTTP {status}).")
    if status == 404:
        return CalcomNotFound(f"Cal.com does not know this event type or booking (HTTP 404): {message}")
    return AvailabilityProviderError(
        f"Cal.com rejected the request (HTTP {status}): {message}", retryable=False
    )


def _error_message(response: httpx.Response) -> str:
    """The message of a v2 error body, read defensively (the spec defines no error schema)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.reason_phrase or "no details"
    error = body.get("error") if isinstance(body, Mapping) else None
    text = (
        error.get("message")
        if isinstance(error, Mapping)
        else body.get("message")
        if isinstance(body, Mapping)
        else None
    )
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", str(text or "no details")))[:300]


def _data(body: Mapping[str, Any]) -> Mapping[str, Any]:
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise AvailabilityProviderError("Cal.com answered in an unexpected shape.", retryable=False)
    return data


def _uid_of(body: Mapping[str, Any]) -> str:
    """The uid of the booking Cal.com answered with (after a create or a move)."""
    uid = _data(body).get("uid")
    if not isinstance(uid, str):
        raise AvailabilityProviderError("Cal.com made a booking but sent no uid.", retryable=False)
    return uid


def _parse_slot_starts(body: Mapping[str, Any]) -> list[datetime]:
    """`data` maps each day to its slots: objects with `start` (and `end`), as the spec's examples
    and Cal.com's server do; bare strings, as its schema claims, are accepted too."""
    days = body.get("data")
    if not isinstance(days, Mapping):
        raise AvailabilityProviderError("Cal.com sent slots in an unexpected shape.", retryable=False)
    starts: list[datetime] = []
    try:
        for slots in days.values():
            for slot in slots:
                text = slot["start"] if isinstance(slot, Mapping) else slot
                start = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
                if start.tzinfo is None:
                    raise ValueError("slot start without an offset")
                starts.append(start.astimezone(UTC))
    except (KeyError, TypeError, ValueError):
        raise AvailabilityProviderError(
            "Cal.com sent slots in an unexpected shape.", retryable=False
        ) from None
    return sorted(set(starts))
