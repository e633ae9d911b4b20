"""The ClientDataStore port on SQL: a client's bookings by e-mail (ignoring case), what the outbox
did with their events, the reminders sent of them, and their anonymisation. On SQLite,
`secure_delete` (sql/sqlite.py) zeroes what an update frees in the file, and after an anonymisation
the write-ahead log, which still holds the pages as they were, is checkpointed and truncated: no
byte of the old details stays in either file. (PostgreSQL keeps old row versions until VACUUM; a
dump never shows them: docs/privacy.md.)"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from attrs import frozen
from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from booking_adapters.sql.rows import booking_from_row, event_from_row
from booking_adapters.sql.tables import booking_events, bookings, outbox_deliveries, reminder_deliveries
from booking_adapters.sql.transactions import Transactions
from booking_core import ERASED, Booking, ClientDetails, DeliveryRecord, Reminder, ReminderRecord
from booking_core.client_erasure import scrub

log = logging.getLogger(__name__)

_SAME_EMAIL = func.lower(bookings.c.client_email) == func.lower(bindparam("email"))
_NOT_ERASED = bookings.c.client_email != ERASED.email


@frozen
class SqlClientData:
    transactions: Transactions

    async def bookings_of_client(self, email: str) -> Sequence[Booking]:
        query = select(bookings).where(_SAME_EMAIL).order_by(bookings.c.created_at, bookings.c.id)
        async with self.transactions.read() as connection:
            rows = (await connection.execute(query, {"email": email})).mappings().all()
        return [booking_from_row(row) for row in rows]

    async def deliveries_of(self, booking_ids: Sequence[str]) -> Sequence[DeliveryRecord]:
        if not booking_ids:
            return []
        query = (
            select(
                outbox_deliveries,
                *(column for column in booking_events.c if column.name != "seq"),
            )
            .join(booking_events, booking_events.c.seq == outbox_deliveries.c.seq)
            .where(
                booking_events.c.booking_id.in_(booking_ids),
                or_(outbox_deliveries.c.delivered_at.is_not(None), outbox_deliveries.c.attempts > 0),
            )
            .order_by(outbox_deliveries.c.seq, outbox_deliveries.c.channel)
        )
        async with self.transactions.read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            DeliveryRecord(
                row["channel"],
                row["seq"],
                event_from_row(row),
                row["attempts"],
                row["delivered_at"],
                row["last_error"],
            )
            for row in rows
        ]

    async def reminders_of(self, booking_ids: Sequence[str]) -> Sequence[ReminderRecord]:
        if not booking_ids:
            return []
        sent = reminder_deliveries.c
        query = (
            select(reminder_deliveries)
            .where(sent.booking_id.in_(booking_ids), or_(sent.sent_at.is_not(None), sent.attempts > 0))
            .order_by(sent.booking_id, sent.slot_start, sent.offset_seconds.desc(), sent.channel)
        )
        async with self.transactions.read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            ReminderRecord(
                Reminder(
                    row["booking_id"],
                    row["slot_start"],
                    timedelta(seconds=row["offset_seconds"]),
                    row["channel"],
                ),
                row["sent_at"],
                row["attempts"],
                row["last_error"],
            )
            for row in rows
        ]

    async def anonymise(
        self, booking_ids: Sequence[str], erased: ClientDetails, scrub_out: Sequence[str], at: datetime
    ) -> int:
        if not booking_ids:
            return 0

        async def anonymise_rows(connection: AsyncConnection) -> int:
            changed = await connection.execute(
                update(bookings)
                .where(bookings.c.id.in_(booking_ids))
                .values(
                    client_name=erased.name,
                    client_email=erased.email,
                    client_phone=erased.phone,
                    client_address=None,
                    request_hash=None,
                    version=bookings.c.version + 1,
                    updated_at=at,
                )
            )
            await _scrub_reasons(connection, booking_ids, scrub_out)
            await _scrub_delivery_errors(connection, booking_ids, scrub_out)
            await _scrub_reminder_errors(connection, booking_ids, scrub_out)
            return changed.rowcount

        count = await self.transactions.write(anonymise_rows)
        if self.transactions.is_sqlite:
            await self._truncate_write_ahead_log()
        return count

    async def _truncate_write_ahead_log(self) -> None:
        async with self.transactions.read() as connection:
            outcome = (await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()
        if outcome[0]:  # a reader held on to old pages; the next checkpoint overwrites them
            log.warning("the SQLite write-ahead log could not be truncated after an erasure: readers busy")

    async def identified_sessions_ended(self, ended_by: datetime, limit: int = 100) -> Sequence[Booking]:
        query = (
            select(bookings)
            .where(and_(bookings.c.slot_end <= ended_by, _NOT_ERASED))
            .order_by(bookings.c.slot_end, bookings.c.id)
            .limit(limit)
        )
        async with self.transactions.read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [booking_from_row(row) for row in rows]


async def _scrub_reasons(
    connection: AsyncConnection, booking_ids: Sequence[str], details: Sequence[str]
) -> None:
    rows = await connection.execute(
        select(booking_events.c.seq, booking_events.c.reason).where(
            booking_events.c.booking_id.in_(booking_ids)
        )
    )
    for seq, reason in rows.all():
        if (clean := scrub(reason, details)) != reason:
            await connection.execute(
                update(booking_events).where(booking_events.c.seq == seq).values(reason=clean)
            )


async def _scrub_delivery_errors(
    connection: AsyncConnection, booking_ids: Sequence[str], details: Sequence[str]
) -> None:
    of_bookings = select(booking_events.c.seq).where(booking_events.c.booking_id.in_(booking_ids))
    rows = await connection.execute(
        select(outbox_deliveries.c.channel, outbox_deliveries.c.seq, outbox_deliveries.c.last_error).where(
            outbox_deliveries.c.seq.in_(of_bookings), outbox_deliveries.c.last_error != ""
        )
    )
    for channel, seq, error in rows.all():
        if (clean := scrub(error, details)) != error:
            await connection.execute(
                update(outbox_deliveries)
                .where(outbox_deliveries.c.channel == channel, outbox_deliveries.c.seq == seq)
                .values(last_error=clean)
            )


async def _scrub_reminder_errors(
    connection: AsyncConnection, booking_ids: Sequence[str], details: Sequence[str]
) -> None:
    """A failed reminder's error (an SMTP answer may quote the address), kept in this database."""
    key = (
        reminder_deliveries.c.booking_id,
        reminder_deliveries.c.slot_start,
        reminder_deliveries.c.offset_seconds,
        reminder_deliveries.c.channel,
    )
    rows = await connection.execute(
        select(*key, reminder_deliveries.c.last_error).where(
            reminder_deliveries.c.booking_id.in_(booking_ids), reminder_deliveries.c.last_error != ""
        )
    )
    for *values, error in rows.all():
        if (clean := scrub(error, details)) != error:
            same = [column == value for column, value in zip(key, values, strict=True)]
            await connection.execute(update(reminder_deliveries).where(*same).values(last_error=clean))
