"""The requests each scenario sends, built ahead or by number so that sending costs little."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta

from bench.load.client import Connection, Request
from bench.load.drive import RequestFor

LEAD_DAYS = 2  # clear of every practitioner's minimum notice, in every time zone


def first_day(today: date) -> date:
    return today + timedelta(days=LEAD_DAYS)


def availability_path(practitioner_id: str, first: date, days: int) -> str:
    last = first + timedelta(days=days - 1)
    return f"/api/practitioners/{practitioner_id}/availability?start={first}&end={last}"


def availability_requests(practitioner_ids: Sequence[str], first: date, days: int) -> RequestFor:
    """The n-th request asks for the n-th practitioner's `days` (round robin)."""
    requests = [Request("GET", availability_path(p, first, days)) for p in practitioner_ids]
    return lambda n: requests[n % len(requests)]


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


def booking_requests(slots: Sequence[tuple[str, str]]) -> RequestFor:
    """The n-th request books the n-th slot; past the end it repeats them (and gets 409s)."""
    return lambda n: Request("POST", "/api/bookings", booking_body(*slots[n % len(slots)], n))


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
