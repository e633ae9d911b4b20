"""Booking limits on SQL (booking_core.booking_limits): the count of live bookings in a day or week,
taken in the transaction that adds (or revives) a booking, after the lock that makes it exact.

PostgreSQL: before counting, the transaction takes an advisory lock per limit's practitioner and
span (local day or week), in one global order (so two writers never wait on each other in a cycle),
held until it commits. Every write that could add to a count takes that count's lock (a limit of
the practitioner binds each of their bookings; a service's, each of that service's), and under
READ COMMITTED each statement after the lock sees what was committed before it: of writers racing
for the last place of a day, the second counts the first's booking. A lapsed hold simply stops
counting: the count asks `live_at`, so no counter has to learn of it. SQLite runs one write
transaction at a time, so its count is exact without a lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BigInteger, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from booking_adapters.sql.conditions import live_at
from booking_adapters.sql.tables import UtcDateTime, bookings
from booking_core import BookingLimit

_AT = bindparam("at", type_=UtcDateTime)
_IN_SPAN = (
    bookings.c.practitioner_id == bindparam("practitioner_id"),
    bookings.c.slot_start >= bindparam("span_start", type_=UtcDateTime),
    bookings.c.slot_start < bindparam("span_end", type_=UtcDateTime),
    live_at(_AT),
)
# How many of the practitioner's bookings live at `at` start within the span (of one service).
_LIVE_IN_SPAN = select(func.count()).select_from(bookings).where(*_IN_SPAN)
_LIVE_OF_SERVICE_IN_SPAN = _LIVE_IN_SPAN.where(bookings.c.service_id == bindparam("service_id"))
# One limit's lock until the transaction ends (the single-bigint key space, apart from the
# two-integer keys time off locks with).
_LOCK = select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger)))


def lock_key(practitioner_id: str, limit: BookingLimit) -> int:
    """A stable signed 64-bit key for the practitioner's span (the same in every process)."""
    name = f"booking-limit/{practitioner_id}/{limit.span.start.isoformat()}/{limit.span.end.isoformat()}"
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


async def refuse_over_limits(
    connection: AsyncConnection,
    practitioner_id: str,
    limits: Sequence[BookingLimit],
    at: datetime,
    *,
    lock: bool,
) -> None:
    """Raise the refusal of the first of `limits` whose count of the practitioner's bookings live at
    `at` leaves no room; first take their locks when `lock` (PostgreSQL)."""
    if lock:
        for key in sorted({lock_key(practitioner_id, limit) for limit in limits}):
            await connection.execute(_LOCK, {"key": key})
    for limit in limits:
        parameters = {
            "practitioner_id": practitioner_id,
            "span_start": limit.span.start,
            "span_end": limit.span.end,
            "at": at,
            "service_id": limit.service_id,
        }
        counting = _LIVE_IN_SPAN if limit.service_id is None else _LIVE_OF_SERVICE_IN_SPAN
        count = (await connection.execute(counting, parameters)).scalar_one()
        if refusal := limit.refusal(count):
            raise refusal
