"""The booking rules that SQL statements filter by, each built once in SQLAlchemy Core: the SQL
form of `Booking.is_live` and `Booking.is_ahead` (booking_core.booking), and of a lapsed hold.

`now` is a value or a bound parameter (`bindparam("at")` in a statement compiled once); `rows` is
`bookings` or an alias of it, for a statement that reads the table under another name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ColumnElement, FromClause, String, and_, func, literal_column, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from booking_adapters.sql.tables import bookings, time_off
from booking_core import BookingStatus

Instant = datetime | ColumnElement[datetime]


def constant(value: str) -> ColumnElement[str]:
    """`value` written into the statement, not bound: for this adapter's own names (statuses,
    triggers), never for outside input."""
    assert "'" not in value
    return literal_column(f"'{value}'", String)


def status_is(status: BookingStatus, rows: FromClause = bookings) -> ColumnElement[bool]:
    # A constant, not a parameter: the planner matches it against the partial indexes'
    # `status = 'pending_payment'`, which a parameter (in a generic plan) would not.
    return rows.c.status == constant(status.value)


def holding_at(now: Instant, rows: FromClause = bookings) -> ColumnElement[bool]:
    """An unpaid hold that has not lapsed at `now`: it keeps its slot while the client pays."""
    return and_(status_is(BookingStatus.PENDING_PAYMENT, rows), rows.c.hold_expires_at > now)


def lapsed_at(now: Instant, rows: FromClause = bookings) -> ColumnElement[bool]:
    """An unpaid hold that has lapsed by `now`, not yet released: it no longer keeps its slot."""
    return and_(status_is(BookingStatus.PENDING_PAYMENT, rows), rows.c.hold_expires_at <= now)


def live_at(now: Instant, rows: FromClause = bookings) -> ColumnElement[bool]:
    """Keeps its slot at `now` (`Booking.is_live`): confirmed, or a hold that has not lapsed."""
    return or_(status_is(BookingStatus.CONFIRMED, rows), holding_at(now, rows))


def ahead_at(now: Instant, rows: FromClause = bookings) -> ColumnElement[bool]:
    """Still to come at `now` (`Booking.is_ahead`): a confirmed session not yet over, or a hold
    that has not lapsed."""
    return or_(
        and_(status_is(BookingStatus.CONFIRMED, rows), rows.c.slot_end > now),
        holding_at(now, rows),
    )


def ended_by(now: Instant, rows: FromClause = bookings) -> ColumnElement[bool]:
    """A confirmed session whose slot ended by `now`, not yet recorded as completed or a no-show
    (the partial index ix_bookings_sessions_ended answers it)."""
    return and_(status_is(BookingStatus.CONFIRMED, rows), rows.c.slot_end <= now)


def overlapping(
    practitioner_id: str | ColumnElement[str],
    start: Instant,
    end: Instant,
    rows: FromClause = bookings,
) -> ColumnElement[bool]:
    """The practitioner's bookings whose occupied span overlaps [start, end) (half-open: touching
    is fine), the span the no-double-booking rule compares (`Booking.occupied`)."""
    return and_(
        rows.c.practitioner_id == practitioner_id,
        _OccupiedOverlaps(rows.c.occupied_start, rows.c.occupied_end, start, end),
    )


def time_off_overlapping(
    practitioner_id: str | ColumnElement[str], start: Instant, end: Instant
) -> ColumnElement[bool]:
    """The practitioner's time off that overlaps [start, end) (half-open, as `overlapping`)."""
    return and_(
        time_off.c.practitioner_id == practitioner_id,
        time_off.c.span_end > start,
        time_off.c.span_start < end,
    )


class _OccupiedOverlaps(FunctionElement[bool]):
    """`occupied_start < end AND occupied_end > start`; on PostgreSQL also as the overlap of two
    ranges, the form the exclusion constraint's GiST index answers (ex_bookings_live_overlap): without
    it the planner may take that index for the practitioner alone and filter every live booking of
    theirs (measured 0.9 ms against 0.14 for one with 1,700; bench/store_cpu.py's `busy`)."""

    type = Boolean()
    inherit_cache = True
    name = "occupied_overlaps"
    _is_implicitly_boolean = True  # a condition as it stands (not `... = 1` on SQLite)


@compiles(_OccupiedOverlaps)
def _compare_bounds(element: _OccupiedOverlaps, compiler: SQLCompiler, **kw: Any) -> str:
    occupied_start, occupied_end, start, end = element.clauses
    return compiler.process(and_(occupied_start < end, occupied_end > start).self_group(), **kw)


@compiles(_OccupiedOverlaps, "postgresql")
def _overlap_ranges(element: _OccupiedOverlaps, compiler: SQLCompiler, **kw: Any) -> str:
    occupied_start, occupied_end, start, end = element.clauses
    half_open = constant("[)")
    ranges = func.tstzrange(occupied_start, occupied_end, half_open).op("&&")(
        func.tstzrange(start, end, half_open)
    )
    return compiler.process(and_(ranges, occupied_start < end, occupied_end > start).self_group(), **kw)
