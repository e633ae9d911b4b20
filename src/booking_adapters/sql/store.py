"""The BookingStore port on SQL; the database, not this code, forbids overlapping live bookings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Select,
    Table,
    and_,
    bindparam,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from booking_adapters.sql.outbox import SqlOutbox, append_events
from booking_adapters.sql.rows import booking_from_row, booking_row, event_from_row, event_row
from booking_adapters.sql.tables import booking_events, bookings, practitioners, processed_payment_events
from booking_adapters.sql.upsert import insert_ignoring_duplicates
from booking_core import (
    LIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    ConcurrentUpdate,
    HoldCaps,
    PractitionerRemoved,
    SlotUnavailable,
    TimeRange,
    Trigger,
)

_PENDING = BookingStatus.PENDING_PAYMENT.value
_LAPSED_REASON = "hold lapsed"
# The statements run on psycopg directly are compiled once, for its dialect.
_POSTGRESQL: Dialect = postgresql_psycopg.dialect()  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy
_BOOKING_COLUMNS = tuple(column.name for column in bookings.columns)
_EVENT_COLUMNS = ("booking_id", "trigger", "from_status", "to_status", "at", "reason")


def _typed_values(table: Table, names: Sequence[str], prefix: str = "") -> str:
    """`CAST(%(name)s AS type), ...`: parameters typed as the columns they fill (a NULL too)."""
    dialect = _POSTGRESQL
    return ", ".join(
        f"CAST(%({prefix}{name})s AS {table.c[name].type.compile(dialect=dialect)})" for name in names
    )


def _unpaid_holds(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    """How many live unpaid holds (pending, not lapsed at `at`) meet `conditions`."""
    return (
        select(func.count())
        .select_from(bookings)
        .where(
            bookings.c.status == literal_column(f"'{_PENDING}'"),  # a literal: the partial index applies
            bookings.c.hold_expires_at > bindparam("at"),
            *conditions,
        )
        .scalar_subquery()
    )


# The counts HoldCaps.refusal judges a new hold by, in one row; parameters named as the new
# booking's columns (its row is bound anyway), `at`, and the practitioner's `window_start` and
# `window_end`. Live holds are few (they last minutes): the partial index of pending holds finds them.
_HOLD_COUNTS: Select[int, int, int, int] = select(
    _unpaid_holds(func.lower(bookings.c.client_email) == func.lower(bindparam("client_email"))).label(
        "email"
    ),
    _unpaid_holds(bookings.c.client_phone == bindparam("client_phone")).label("phone"),
    _unpaid_holds(bookings.c.client_address == bindparam("client_address")).label("client_address"),
    _unpaid_holds(
        bookings.c.practitioner_id == bindparam("practitioner_id"),
        bookings.c.slot_start >= bindparam("window_start"),
        bookings.c.slot_start < bindparam("window_end"),
    ).label("practitioner"),
)
_NO_CAP = 2**31 - 1  # a cap no count reaches: what the statements use without HoldCaps


def _caps_parameters(caps: HoldCaps | None, at: datetime) -> dict[str, Any]:
    return {
        "window_start": caps.window.start if caps else at,
        "window_end": caps.window.end if caps else at,
        "cap_client": caps.per_client if caps else _NO_CAP,
        "cap_practitioner": caps.practitioner if caps else _NO_CAP,
    }


# PostgreSQL, one statement each (autocommit: the statement is the transaction, one round trip).
# Parameters in psycopg's %(name)s style; the booking's columns, `at` (the event's time) and `e_*`
# (the event's columns). The statement releases lapsed holds in the way (and records their events),
# then inserts the booking unless a booking live at `at` overlaps it (the check the service's
# availability read used to make; the exclusion constraint still decides between racing inserts),
# and records its event. The INSERT reads the count of released rows, so the release has run to its
# end before the constraint checks the new row. It inserts only if the counts of live unpaid holds
# (`_HOLD_COUNTS`, as of the statement's start) are below the caps, and returns them so that a
# refusal can say which cap it met. It locks the practitioner's row (FOR KEY SHARE, which a removal's
# FOR UPDATE waits for, and the other way round) and inserts nothing for a removed practitioner (see
# directory.py). (S608: built once from this module's constants.)
_RELEASE_LAPSED_SQL = f"""
    UPDATE bookings SET status = '{BookingStatus.EXPIRED.value}', payment_check_due = true,
                        updated_at = %(at)s, version = version + 1, client_address = NULL
    WHERE practitioner_id = %(practitioner_id)s
      AND occupied_start < %(occupied_end)s AND occupied_end > %(occupied_start)s
      AND id <> %(id)s AND status = '{_PENDING}' AND hold_expires_at <= %(at)s
    RETURNING id"""  # noqa: S608
_ADD_IF_FREE_SQL = f"""
WITH counts AS ({_HOLD_COUNTS.compile(dialect=_POSTGRESQL)}
), released AS ({_RELEASE_LAPSED_SQL}
), removed AS MATERIALIZED (
    SELECT removed_at FROM practitioners WHERE id = %(practitioner_id)s FOR KEY SHARE
), inserted AS (
    INSERT INTO bookings ({", ".join(_BOOKING_COLUMNS)})
    SELECT {_typed_values(bookings, _BOOKING_COLUMNS)}
    WHERE (SELECT count(*) FROM released) >= 0
      AND NOT EXISTS (SELECT 1 FROM removed WHERE removed_at IS NOT NULL)
      AND NOT EXISTS (
        SELECT 1 FROM bookings AS live
        WHERE live.practitioner_id = %(practitioner_id)s
          AND live.occupied_start < %(occupied_end)s AND live.occupied_end > %(occupied_start)s
          AND (live.status = '{BookingStatus.CONFIRMED.value}'
               OR (live.status = '{_PENDING}' AND live.hold_expires_at > %(at)s))
      )
      AND (SELECT email < %(cap_client)s AND phone < %(cap_client)s AND client_address < %(cap_client)s
                  AND practitioner < %(cap_practitioner)s FROM counts)
    RETURNING id
), events AS (
    INSERT INTO booking_events ({", ".join(_EVENT_COLUMNS)})
    SELECT * FROM (
        SELECT id, '{Trigger.HOLD_RELEASED.value}', '{_PENDING}', '{BookingStatus.EXPIRED.value}',
               %(at)s, '{_LAPSED_REASON}'
        FROM released ORDER BY id
    ) AS lapsed
    UNION ALL
    SELECT {_typed_values(booking_events, _EVENT_COLUMNS, "e_")} FROM inserted
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM removed WHERE removed_at IS NOT NULL),
       email, phone, client_address, practitioner FROM counts"""  # noqa: S608
# A change that does not make the booking live: compare-and-set on `version`, and its event (if
# any) recorded only if the row changed.
_SAVE_SQL = f"""
WITH updated AS (
    UPDATE bookings SET {", ".join(f"{name} = %({name})s" for name in _BOOKING_COLUMNS if name != "id")}
    WHERE id = %(id)s AND version = %(before_version)s
    RETURNING id
)"""  # noqa: S608
_SAVE_EVENT_SQL = f""", events AS (
    INSERT INTO booking_events ({", ".join(_EVENT_COLUMNS)})
    SELECT {_typed_values(booking_events, _EVENT_COLUMNS, "e_")} FROM updated
)"""  # noqa: S608
_SAVE_RESULT_SQL = "\nSELECT count(*) FROM updated"


def _event_parameters(event: BookingEvent) -> dict[str, Any]:
    return {f"e_{name}": value for name, value in event_row(event).items()}


# Occupied spans of bookings live at `now` that overlap [start, end), built once: on PostgreSQL it
# runs as compiled SQL on the driver (`Transactions.driver_query`).
_BUSY = (
    select(bookings.c.occupied_start, bookings.c.occupied_end)
    .where(
        bookings.c.practitioner_id == bindparam("practitioner_id"),
        bookings.c.occupied_start < bindparam("end"),
        bookings.c.occupied_end > bindparam("start"),
        or_(
            bookings.c.status == bindparam("confirmed"),
            and_(bookings.c.status == bindparam("pending"), bookings.c.hold_expires_at > bindparam("now")),
        ),
    )
    .order_by(bookings.c.occupied_start, bookings.c.occupied_end)
)
_BUSY_POSTGRESQL = str(_BUSY.compile(dialect=_POSTGRESQL))


def _busy_parameters(practitioner_id: str, window: TimeRange, now: datetime) -> dict[str, Any]:
    return {
        "practitioner_id": practitioner_id,
        "start": window.start,
        "end": window.end,
        "now": now,
        "confirmed": BookingStatus.CONFIRMED.value,
        "pending": _PENDING,
    }


async def _refuse_if_removed(connection: AsyncConnection, practitioner_id: str) -> None:
    """Lock the practitioner's row against a concurrent removal and refuse if they were removed."""
    query = (
        select(practitioners.c.removed_at)
        .where(practitioners.c.id == practitioner_id)
        .with_for_update(read=True, key_share=True)
    )
    if (await connection.execute(query)).scalar() is not None:
        raise PractitionerRemoved()


def _overlapping(practitioner_id: str, span: TimeRange) -> ColumnElement[bool]:
    return and_(
        bookings.c.practitioner_id == practitioner_id,
        bookings.c.occupied_start < span.end,
        bookings.c.occupied_end > span.start,
    )


class SqlBookingStore(SqlOutbox):
    """Bookings in the `bookings` table, their history in `booking_events` (also the outbox)."""

    async def add_if_free(self, booking: Booking, event: BookingEvent, caps: HoldCaps | None = None) -> None:
        if self._transactions.single_statement_writes:
            await self._add_if_free_in_one_statement(booking, event, caps)
            return

        async def insert_booking(connection: AsyncConnection) -> None:
            await _refuse_if_removed(connection, booking.practitioner_id)
            released = await self._release_lapsed_in_the_way(connection, booking, event.at)
            if caps is not None:  # SQLite writes one at a time: the count is exact
                parameters = booking_row(booking) | _caps_parameters(caps, event.at) | {"at": event.at}
                email, phone, address, practitioner = (
                    await connection.execute(_HOLD_COUNTS, parameters)
                ).one()
                if refusal := caps.refusal(email, phone, address, practitioner):
                    raise refusal
            await connection.execute(insert(bookings).values(booking_row(booking)))
            await append_events(connection, [*released, event])

        await self._transactions.write(insert_booking)

    async def _add_if_free_in_one_statement(
        self, booking: Booking, event: BookingEvent, caps: HoldCaps | None
    ) -> None:
        parameters = (
            booking_row(booking)
            | _event_parameters(event)
            | _caps_parameters(caps, event.at)
            | {"at": event.at}
        )
        row = await self._transactions.driver_statement(_ADD_IF_FREE_SQL, parameters)
        if row is not None and row[0] == 1:
            return
        if row is not None and row[1]:
            raise PractitionerRemoved()
        if caps is not None and row is not None and (refusal := caps.refusal(*row[2:])):
            raise refusal
        raise SlotUnavailable()

    async def save(self, before: Booking, after: Booking, event: BookingEvent | None) -> None:
        becomes_live = after.status in LIVE_STATUSES and before.status not in LIVE_STATUSES
        if self._transactions.single_statement_writes and not becomes_live:
            await self._save_in_one_statement(before, after, event)
            return

        async def update_booking(connection: AsyncConnection) -> None:
            released: list[BookingEvent] = []
            if becomes_live:  # the constraint checks the update; lapsed holds must not block it
                await _refuse_if_removed(connection, after.practitioner_id)
                released = await self._release_lapsed_in_the_way(connection, after, after.updated_at)
            changed = await connection.execute(
                update(bookings)
                .where(bookings.c.id == before.id, bookings.c.version == before.version)
                .values(booking_row(after))
            )
            if changed.rowcount != 1:
                raise ConcurrentUpdate(f"booking {before.id} changed meanwhile")
            await append_events(connection, [*released, *([event] if event else [])])

        await self._transactions.write(update_booking)

    async def _save_in_one_statement(
        self, before: Booking, after: Booking, event: BookingEvent | None
    ) -> None:
        parameters = booking_row(after) | {"before_version": before.version}
        statement = _SAVE_SQL
        if event is not None:
            parameters |= _event_parameters(event)
            statement += _SAVE_EVENT_SQL
        statement += _SAVE_RESULT_SQL

        row = await self._transactions.driver_statement(statement, parameters)
        if row is None or row[0] != 1:
            raise ConcurrentUpdate(f"booking {before.id} changed meanwhile")

    async def _release_lapsed_in_the_way(
        self, connection: AsyncConnection, booking: Booking, at: datetime
    ) -> list[BookingEvent]:
        """Expire pending holds lapsed by `at` that overlap `booking`, in this transaction.

        Two transactions racing for one lapsed hold both try this UPDATE; the second waits for the
        first's row lock, re-reads the row (READ COMMITTED), finds it expired and skips it: one
        history event, and the second then meets the first's booking in the constraint.
        """
        result = await connection.execute(
            update(bookings)
            .where(
                _overlapping(booking.practitioner_id, booking.occupied),
                bookings.c.id != booking.id,
                bookings.c.status == _PENDING,
                bookings.c.hold_expires_at <= at,
            )
            .values(
                status=BookingStatus.EXPIRED.value,
                payment_check_due=True,  # released without asking the payment provider
                updated_at=at,
                version=bookings.c.version + 1,
                client_address=None,  # kept for a pending hold's cap only (Booking.apply)
            )
            .returning(bookings.c.id)
        )
        return [
            BookingEvent(
                booking_id,
                Trigger.HOLD_RELEASED,
                BookingStatus.PENDING_PAYMENT,
                BookingStatus.EXPIRED,
                at,
                _LAPSED_REASON,
            )
            for booking_id in sorted(result.scalars())
        ]

    async def get(self, booking_id: str) -> Booking | None:
        return await self._one(bookings.c.id == booking_id)

    async def find_by_idempotency_key(self, practitioner_id: str, key: str) -> Booking | None:
        return await self._one(
            and_(bookings.c.practitioner_id == practitioner_id, bookings.c.idempotency_key == key)
        )

    async def _one(self, condition: ColumnElement[bool]) -> Booking | None:
        async with self._transactions.read() as connection:
            row = (await connection.execute(select(bookings).where(condition))).mappings().first()
        return None if row is None else booking_from_row(row)

    async def busy(self, practitioner_id: str, window: TimeRange, now: datetime) -> Sequence[TimeRange]:
        parameters = _busy_parameters(practitioner_id, window, now)
        if self._transactions.is_sqlite:
            async with self._transactions.read() as connection:
                rows: Sequence[tuple[Any, ...]] = (await connection.execute(_BUSY, parameters)).all()
        else:  # an availability answer's one query: ~1.5 ms through SQLAlchemy's layers, 0.13 bare
            rows = await self._transactions.driver_query(_BUSY_POSTGRESQL, parameters)
        return [TimeRange(start, end) for start, end in rows]

    async def lapsed_holds(self, now: datetime, limit: int = 100) -> Sequence[Booking]:
        return await self._many(
            and_(bookings.c.status == _PENDING, bookings.c.hold_expires_at <= now),
            order_by=bookings.c.hold_expires_at,
            limit=limit,
        )

    async def payment_checks_due(self, limit: int = 100) -> Sequence[Booking]:
        return await self._many(bookings.c.payment_check_due, order_by=bookings.c.updated_at, limit=limit)

    async def refunds_due(self, limit: int = 100) -> Sequence[Booking]:
        return await self._many(
            and_(bookings.c.refund_owed_amount.is_not(None), bookings.c.refund_id.is_(None)),
            order_by=bookings.c.updated_at,
            limit=limit,
        )

    async def _many(
        self, condition: ColumnElement[bool], *, order_by: ColumnElement[Any], limit: int
    ) -> list[Booking]:
        query = select(bookings).where(condition).order_by(order_by, bookings.c.id).limit(limit)
        async with self._transactions.read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [booking_from_row(row) for row in rows]

    async def history(self, booking_id: str) -> Sequence[BookingEvent]:
        query = select(booking_events).where(booking_events.c.booking_id == booking_id)
        async with self._transactions.read() as connection:
            rows = (await connection.execute(query.order_by(booking_events.c.seq))).mappings().all()
        return [event_from_row(row) for row in rows]

    async def is_payment_event_processed(self, event_id: str) -> bool:
        query = select(processed_payment_events.c.event_id).where(
            processed_payment_events.c.event_id == event_id
        )
        async with self._transactions.read() as connection:
            return (await connection.execute(query)).first() is not None

    async def mark_payment_event_processed(self, event_id: str, at: datetime) -> None:
        async def record(connection: AsyncConnection) -> None:
            await connection.execute(
                insert_ignoring_duplicates(connection, processed_payment_events).values(
                    event_id=event_id, processed_at=at
                )
            )

        await self._transactions.write(record)
