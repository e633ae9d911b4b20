"""The requests each scenario sends, built ahead or by number so that sending costs little."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import date, timedelta

from bench.load.client import Connection, Request
from bench.load.drive import RequestFor

LEAD_DAYS = 2  # clear of every practitioner's minimum notice, in every time zone
# Queries the cache cannot answer: with the practitioners' count coprime to both (300 is), the n-th
# request's (practitioner, start day, time zone) repeats only after practitioners x 49 x 11 requests.
START_DAYS = 49  # within the practitioners' 60-day horizon for a week's query
CLIENT_TIMEZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Africa/Johannesburg",
    "Pacific/Auckland",
    "Europe/London",
)


def first_day(today: date) -> date:
    return today + timedelta(days=LEAD_DAYS)


def availability_path(practitioner_id: str, first: date, days: int) -> str:
    last = first + timedelta(days=days - 1)
    return f"/api/practitioners/{practitioner_id}/availability?start={first}&end={last}"


def availability_requests(practitioner_ids: Sequence[str], first: date, days: int) -> RequestFor:
    """The n-th request asks for the n-th practitioner's `days` (round robin)."""
    requests = [Request("GET", availability_path(p, first, days)) for p in practitioner_ids]
    return lambda n: requests[n % len(requests)]


def distinct_availability_requests(practitioner_ids: Sequence[str], first: date, days: int) -> RequestFor:
    """The n-th request: practitioner n mod P, start day n mod 49, time zone n mod 11, so that
    consecutive requests differ in all three and none repeats for `distinct_queries` requests."""
    zones = CLIENT_TIMEZONES

    def request_for(n: int) -> Request:
        start = first + timedelta(days=n % START_DAYS)
        path = availability_path(practitioner_ids[n % len(practitioner_ids)], start, days)
        return Request("GET", f"{path}&timezone={zones[n % len(zones)]}")

    return request_for


def distinct_queries(practitioners: int) -> int:
    """How many requests `distinct_availability_requests` sends before its first repeat."""
    return math.lcm(practitioners, START_DAYS, len(CLIENT_TIMEZONES))


def booking_body(practitioner_id: str, start: str, number: int) -> bytes:
    return json.dumps(
        {
            "practitioner_id": practitioner_id,
            "start": start,
            "name": f"Load Client {number}",
            "email": f"client{number}@example.com",
            "phone": "+49 30 1234567",
        }
    ).encode()


def client_address(number: int) -> str:
    """A client address of its own for each of 65,536 clients: the service's rate limit (10,000 a
    minute per address at most) would cap a bench sent from one address at 167 bookings a second."""
    return f"10.77.{number // 256 % 256}.{number % 256}"


def booking_requests(slots: Sequence[tuple[str, str]], path: str = "/api/bookings") -> RequestFor:
    """The n-th request books the n-th slot, from the n-th client address; past the end it repeats
    the slots (and gets 409s)."""
    return lambda n: Request("POST", path, booking_body(*slots[n % len(slots)], n), client_address(n))


async def open_slots(
    connection: Connection, practitioner_ids: Sequence[str], first: date, days: int
) -> list[tuple[str, str]]:
    """(practitioner id, start) of every free slot, interleaved across practitioners so that
    consecutive bookings go to different people."""
    per_practitioner = []
    for practitioner_id in practitioner_ids:
        response = await connection.send(Request("GET", availability_path(practitioner_id, first, days)))
        if response.status != 200:
            raise RuntimeError(
                f"availability of {practitioner_id}: {response.status} {response.body[:200]!r}"
            )
        slots = json.loads(response.body)["slots"]
        per_practitioner.append([(practitioner_id, slot["start"]) for slot in slots])
    longest = max(map(len, per_practitioner), default=0)
    return [slots[i] for i in range(longest) for slots in per_practitioner if i < len(slots)]


def bare_requests(method: str, response_bytes: int, request_body: bytes = b"") -> RequestFor:
    request = Request(method, f"/bare?bytes={response_bytes}", request_body)
    return lambda _n: request
