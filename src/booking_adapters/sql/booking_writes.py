"""The statements of the store's writes (`add_if_free`, `save` and the release of lapsed holds in
their way), each built once in SQLAlchemy Core from the rules in conditions.py.

SQLite runs them one after another in a transaction (store.py). On PostgreSQL a write is one
statement that composes the same pieces as CTEs (autocommit: the statement is the transaction, one
round trip), compiled once and run on the psycopg connection (driver.py). Parameters are named as the
booking's columns, `at` (the time of the write) and `e_*` (the columns of its history event).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from attrs import evolve
from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal_column,
    null,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import ReturningUpdate

from booking_adapters.sql.conditions import (
    constant,
    holding_at,
    lapsed_at,
    live_at,
    overlapping,
    status_is,
)
from booking_adapters.sql.driver import DriverStatement
from booking_adapters.sql.rows import event_row
from booking_adapters.sql.tables import UtcDateTime, booking_events, bookings, practitioners
from booking_core import (
    LAPSED_HOLD,
    BookingEvent,
    BookingStatus,
    Caps,
    FreeBookingCaps,
    HoldCaps,
    TimeRange,
    Trigger,
)

EVENT_COLUMNS = (
    "booking_id",
    "trigger",
    "from_status",
    "to_status",
    "at",
    "reason",
    "moved_from_start",
    "moved_from_end",
    "moved_to_start",
    "moved_to_end",
)


# The history event of a lapsed hold the store released, but for its booking and time.
_RELEASED = BookingEvent(
    "",
    Trigger.HOLD_RELEASED,
    BookingStatus.PENDING_PAYMENT,
    BookingStatus.EXPIRED,
    datetime.min.replace(tzinfo=UTC),
    LAPSED_HOLD,
)


def lapsed_hold_released(booking_id: str, at: datetime) -> BookingEvent:
    """The event `release_lapsed` means for each hold it released (in SQL: `_released_events`)."""
    return evolve(_RELEASED, booking_id=booking_id, at=at)


def release_lapsed(
    practitioner_id: str | ColumnElement[str],
    occupied_start: datetime | ColumnElement[datetime],
    occupied_end: datetime | ColumnElement[datetime],
    booking_id: str | ColumnElement[str],
    at: datetime | ColumnElement[datetime],
) -> ReturningUpdate[str]:
    """Expire the practitioner's holds lapsed by `at` whose occupied span overlaps the given one,
    other than `booking_id`'s; returns their ids. (A builder rather than a statement with named
    parameters: executed with parameters named as columns, an UPDATE would also SET them.)

    Two transactions racing for one lapsed hold both try this UPDATE; the second waits for the
    first's row lock, re-reads the row (READ COMMITTED), finds it expired and skips it: one history
    event, and the second then meets the first's booking in the constraint.
    """
    return (
        update(bookings)
        .where(
            overlapping(practitioner_id, occupied_start, occupied_end),
            bookings.c.id != booking_id,
            lapsed_at(at),
        )
        .values(  # constants written into the statement: nothing but the caller's values is bound
            status=constant(_RELEASED.to_status.value),
            payment_check_due=true(),  # released without asking the payment provider
            updated_at=at,
            version=bookings.c.version + literal_column("1", Integer),
            client_address=null(),  # kept for a pending hold's cap only (Booking._transition)
        )
        .returning(bookings.c.id)
    )


async def release_lapsed_in_the_way(
    connection: AsyncConnection, practitioner_id: str, span: TimeRange, booking_id: str, at: datetime
) -> list[BookingEvent]:
    """Expire the practitioner's holds lapsed by `at` (other than `booking_id`) whose occupied span
    overlaps `span`, in the caller's transaction; their history events, to append."""
    released = release_lapsed(practitioner_id, span.start, span.end, booking_id, at)
    result = await connection.execute(released)
    return [lapsed_hold_released(released_id, at) for released_id in sorted(result.scalars())]


# The practitioner's row, locked against a concurrent removal (FOR KEY SHARE, which a removal's FOR
# UPDATE waits for, and the other way round; see directory.py); a removed practitioner books no more.
REMOVED_AT = (
    select(practitioners.c.removed_at)
    .where(practitioners.c.id == bindparam("practitioner_id"))
    .with_for_update(read=True, key_share=True)
)


def _unpaid_holds(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    """How many live unpaid holds (pending, not lapsed at `at`) meet `conditions`."""
    held = holding_at(bindparam("at", type_=UtcDateTime))
    return select(func.count()).select_from(bookings).where(held, *conditions).scalar_subquery()


def _free_bookings_ahead(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    """How many free bookings of the new booking's practitioner are still to come at `at`
    (confirmed, price 0, session not over) and meet `conditions`."""
    return (
        select(func.count())
        .select_from(bookings)
        .where(
            bookings.c.practitioner_id == bindparam("practitioner_id"),
            status_is(BookingStatus.CONFIRMED),
            bookings.c.price_amount == literal_column("0", Integer),
            bookings.c.slot_end > bindparam("at", type_=UtcDateTime),
            *conditions,
        )
        .scalar_subquery()
    )


# A row of counts of bookings, one column per cap (named in _CAP_OF).
Counts = Select[*tuple[int, ...]]

_SAME_EMAIL = func.lower(bookings.c.client_email) == func.lower(bindparam("client_email"))
_SAME_PHONE = bookings.c.client_phone == bindparam("client_phone")
_SAME_ADDRESS = bookings.c.client_address == bindparam("client_address")

# The counts HoldCaps.refusal judges a new hold by, in one row; parameters named as the new
# booking's columns (its row is bound anyway), `at`, and the practitioner's `window_start` and
# `window_end`. Live holds are few (they last minutes): the partial index of pending holds finds them.
HOLD_COUNTS: Counts = select(
    _unpaid_holds(_SAME_EMAIL).label("email"),
    _unpaid_holds(_SAME_PHONE).label("phone"),
    _unpaid_holds(_SAME_ADDRESS).label("client_address"),
    _unpaid_holds(
        bookings.c.practitioner_id == bindparam("practitioner_id"),
        bookings.c.slot_start >= bindparam("window_start"),
        bookings.c.slot_start < bindparam("window_end"),
    ).label("practitioner"),
)
# The counts FreeBookingCaps.refusal judges a new free booking by, parameters as HOLD_COUNTS'.
FREE_COUNTS: Counts = select(
    _free_bookings_ahead(_SAME_EMAIL).label("email"),
    _free_bookings_ahead(_SAME_PHONE).label("phone"),
    _free_bookings_ahead(_SAME_ADDRESS).label("client_address"),
)
# The cap each count is compared with, by the count's name.
_CAP_OF = {
    "email": "cap_client",
    "phone": "cap_client",
    "client_address": "cap_client",
    "practitioner": "cap_practitioner",
}
_NO_CAP = 2**31 - 1  # a cap no count reaches: what the statements use without caps


def counts_for(caps: Caps | None) -> Counts:
    """The counts a store write takes for `caps`: of free bookings, or (also without caps) of holds."""
    return FREE_COUNTS if isinstance(caps, FreeBookingCaps) else HOLD_COUNTS


def event_parameters(event: BookingEvent) -> dict[str, Any]:
    """The `e_*` parameters: the columns of the event a write records."""
    return {f"e_{name}": value for name, value in event_row(event).items()}


def caps_parameters(caps: Caps | None, at: datetime) -> dict[str, Any]:
    holds = caps if isinstance(caps, HoldCaps) else None  # only holds have a practitioner's cap
    return {
        "at": at,
        "window_start": holds.window.start if holds else at,
        "window_end": holds.window.end if holds else at,
        "cap_client": caps.per_client if caps else _NO_CAP,
        "cap_practitioner": holds.practitioner if holds else _NO_CAP,
    }


def _booking_values() -> dict[str, ColumnElement[Any]]:
    """The booking's columns as parameters typed as the columns they fill (so is a NULL:
    `%(name)s::TYPE` on PostgreSQL)."""
    return {column.name: bindparam(column.name, type_=column.type) for column in bookings.columns}


# The store's `save`: compare-and-set on `version`. Every column is SET, `id` too (to itself), so
# that SQLAlchemy, given parameters named as columns, SETs none on its own.
COMPARE_AND_SET = (
    update(bookings)
    .where(bookings.c.id == bindparam("id"), bookings.c.version == bindparam("before_version"))
    .values(_booking_values())
)


def _new_event(source: CTE) -> Select[Any]:
    """The `e_*` event's row, once for each row of `source`."""
    values = [bindparam(f"e_{name}", type_=booking_events.c[name].type) for name in EVENT_COLUMNS]
    return select(*values).select_from(source)


def _released_events(released: CTE, at: ColumnElement[datetime]) -> Select[Any]:
    """The history rows of the holds `released` returned: `lapsed_hold_released`'s, in SQL."""
    constants = event_row(_RELEASED)
    row: dict[str, ColumnElement[Any]] = {"booking_id": released.c.id, "at": at}
    for name in EVENT_COLUMNS[1:]:
        if name not in row:  # a release moves nothing: no span before or after
            value = constants[name]
            row[name] = cast(null(), UtcDateTime) if value is None else constant(value)
    columns = [row[name].label(name) for name in EVENT_COLUMNS]
    lapsed = select(*columns).order_by(released.c.id).subquery("lapsed")
    return select(lapsed)


def _count(source: CTE, *conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    return select(func.count()).select_from(source).where(*conditions).scalar_subquery()


def add_if_free_statement(caps_counts: Counts = HOLD_COUNTS) -> Select[Any]:
    """PostgreSQL: release lapsed holds in the way (and record their events), then insert the
    booking unless a booking live at `at` overlaps it (the exclusion constraint still decides
    between racing inserts), and record its event. The INSERT reads the count of released rows, so
    the release has run to its end before the constraint checks the new row. It inserts only if the
    `caps_counts` (HOLD_COUNTS or FREE_COUNTS, as of the statement's start) are below their caps,
    and returns them so that a refusal can say which cap it met; it locks the practitioner's row
    (REMOVED_AT) and inserts nothing for a removed practitioner.

    Returns one row: inserted (0 or 1), removed (0 or 1), and the counts."""
    new = _booking_values()
    at = bindparam("at", type_=UtcDateTime)
    counts = caps_counts.cte("counts")
    live = bookings.alias("live")
    live_in_the_way = exists().where(
        overlapping(new["practitioner_id"], new["occupied_start"], new["occupied_end"], live),
        live_at(at, live),
    )
    # Only for a booking that will go in: SQLite's transaction (and the memory store) release
    # nothing when a live booking is in the way, and this statement does as they do.
    released = (
        release_lapsed(new["practitioner_id"], new["occupied_start"], new["occupied_end"], new["id"], at)
        .where(~live_in_the_way)
        .cte("released")
    )
    removed = REMOVED_AT.cte("removed").prefix_with("MATERIALIZED")
    removed_now = removed.c.removed_at.is_not(None)
    within_caps = select(
        and_(*(count < bindparam(_CAP_OF[count.name], type_=Integer) for count in counts.c))
    ).scalar_subquery()
    inserted = (
        insert(bookings)
        .from_select(
            list(new),
            select(*new.values()).where(
                _count(released) >= literal_column("0", Integer),
                ~exists().where(removed_now),
                ~live_in_the_way,
                within_caps,
            ),
        )
        .returning(bookings.c.id)
        .cte("inserted")
    )
    events = (
        insert(booking_events)
        .from_select(list(EVENT_COLUMNS), union_all(_released_events(released, at), _new_event(inserted)))
        .cte("events")
    )
    return select(_count(inserted), _count(removed, removed_now), *counts.c).add_cte(events)


def _save(*, recording: bool) -> Select[int]:
    """PostgreSQL: COMPARE_AND_SET, and the `e_*` event recorded only if the row changed (when
    `recording`). Returns the count of rows changed."""
    updated = COMPARE_AND_SET.returning(bookings.c.id).cte("updated")
    statement = select(func.count()).select_from(updated)
    if recording:
        events = insert(booking_events).from_select(list(EVENT_COLUMNS), _new_event(updated))
        statement = statement.add_cte(events.cte("events"))
    return statement


ADD_IF_FREE = DriverStatement.compile(add_if_free_statement(HOLD_COUNTS))
ADD_FREE_BOOKING_IF_FREE = DriverStatement.compile(add_if_free_statement(FREE_COUNTS))
SAVE = DriverStatement.compile(_save(recording=False))
SAVE_RECORDING = DriverStatement.compile(_save(recording=True))
