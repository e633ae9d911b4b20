"""The BookingStore port on SQL; the database, not this code, forbids overlapping live bookings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from booking_adapters.sql.outbox import SqlOutbox, append_events
from booking_adapters.sql.rows import booking_from_row, booking_row, event_from_row
from booking_adapters.sql.tables import booking_events, bookings, processed_payment_events
from booking_adapters.sql.upsert import insert_ignoring_duplicates
from booking_core import (
    LIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    ConcurrentUpdate,
    TimeRange,
    Trigger,
)

_PENDING = BookingStatus.PENDING_PAYMENT.value
_LAPSED_REASON = "hold lapsed"


def _overlapping(practitioner_id: str, span: TimeRange) -> ColumnElement[bool]:
    return and_(
        bookings.c.practitioner_id == practitioner_id,
        bookings.c.occupied_start < span.end,
        bookings.c.occupied_end > span.start,
    )


class SqlBookingStore(SqlOutbox):
    """Bookings in the `bookings` table, their history in `booking_events` (also the outbox)."""

    async def add_if_free(self, booking: Booking, event: BookingEvent) -> None:
        async def insert_booking(connection: AsyncConnection) -> None:
            released = await self._release_lapsed_in_the_way(connection, booking, event.at)
            await connection.execute(insert(bookings).values(booking_row(booking)))
            await append_events(connection, [*released, event])

        await self._transactions.write(insert_booking)

    async def save(self, before: Booking, after: Booking, event: BookingEvent | None) -> None:
        becomes_live = after.status in LIVE_STATUSES and before.status not in LIVE_STATUSES

        async def update_booking(connection: AsyncConnection) -> None:
            released: list[BookingEvent] = []
            if becomes_live:  # the constraint checks the update; lapsed holds must not block it
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

    async def _release_lapsed_in_the_way(
        self, connection: AsyncConnection, booking: Booking, at: datetime
    ) -> list[BookingEvent]:
        """Expire pending holds lapsed by `at` that overlap `booking`, in this transaction.

        Two transactions racing for one lapsed hold both try this UPDATE; the second waits for the
        first's row lock, re-reads the row (READ COMMITTED), finds it expired and skips it: one
        history event, and the second then meets the first's booking in the constraint.
        """
        await self._transactions.serialize_practitioner(connection, booking.practitioner_id)
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
                updated_at=at,
                version=bookings.c.version + 1,
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
        live_at_now = or_(
            bookings.c.status == BookingStatus.CONFIRMED.value,
            and_(bookings.c.status == _PENDING, bookings.c.hold_expires_at > now),
        )
        query = (
            select(bookings.c.occupied_start, bookings.c.occupied_end)
            .where(_overlapping(practitioner_id, window), live_at_now)
            .order_by(bookings.c.occupied_start, bookings.c.occupied_end)
        )
        async with self._transactions.read() as connection:
            rows = (await connection.execute(query)).all()
        return [TimeRange(start, end) for start, end in rows]

    async def lapsed_holds(self, now: datetime, limit: int = 100) -> Sequence[Booking]:
        return await self._many(
            and_(bookings.c.status == _PENDING, bookings.c.hold_expires_at <= now),
            order_by=bookings.c.hold_expires_at,
            limit=limit,
        )

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
