"""The ReminderLedger port on SQL: the `reminder_deliveries` table beside the bookings and their
history, from which reminders are derived (booking_core.reminders)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from booking_adapters.sql.conditions import status_is
from booking_adapters.sql.rows import booking_from_row
from booking_adapters.sql.tables import booking_events, bookings, reminder_deliveries
from booking_adapters.sql.transactions import Transactions
from booking_adapters.sql.upsert import dialect_insert
from booking_core import PLACEMENTS, BookingStatus, Reminder, UpcomingBooking

_sent = reminder_deliveries

# When each booking last took its slot confirmed: its latest placement in the history.
_PLACED_AT = (
    select(func.max(booking_events.c.at))
    .where(
        booking_events.c.booking_id == bookings.c.id,
        booking_events.c.trigger.in_(sorted(trigger.value for trigger in PLACEMENTS)),
    )
    .scalar_subquery()
)


def _key(reminder: Reminder) -> Any:
    return and_(
        _sent.c.booking_id == reminder.booking_id,
        _sent.c.slot_start == reminder.slot_start,
        _sent.c.offset_seconds == _seconds(reminder.offset),
        _sent.c.channel == reminder.channel,
    )


def _seconds(offset: timedelta) -> int:
    return int(offset.total_seconds())


class SqlReminderLedger:
    def __init__(self, transactions: Transactions) -> None:
        self._transactions = transactions

    async def upcoming(self, now: datetime, within: timedelta) -> Sequence[UpcomingBooking]:
        ahead = and_(
            status_is(BookingStatus.CONFIRMED),
            bookings.c.slot_start > now,
            bookings.c.slot_start <= now + within,
        )
        query = select(bookings, _PLACED_AT.label("placed_at")).where(ahead).order_by(bookings.c.slot_start)
        sent = (
            select(_sent.c.booking_id, _sent.c.offset_seconds)
            .join(
                bookings,
                and_(bookings.c.id == _sent.c.booking_id, bookings.c.slot_start == _sent.c.slot_start),
            )
            .where(ahead, _sent.c.sent_at.is_not(None))
        )
        async with self._transactions.read() as connection:
            rows = (await connection.execute(query.order_by(bookings.c.id))).mappings().all()
            sent_rows = (await connection.execute(sent)).all()
        offsets: dict[str, set[timedelta]] = {}
        for booking_id, seconds in sent_rows:
            offsets.setdefault(booking_id, set()).add(timedelta(seconds=seconds))
        return [
            UpcomingBooking(booking_from_row(row), row["placed_at"], frozenset(offsets.get(row["id"], ())))
            for row in rows
        ]

    async def claim(
        self, reminders: Sequence[Reminder], now: datetime, *, lease_seconds: int = 60
    ) -> Sequence[Reminder]:
        async def lease(connection: AsyncConnection) -> list[Reminder]:
            confirmed = set(
                (
                    await connection.execute(
                        select(bookings.c.id, bookings.c.slot_start).where(
                            bookings.c.id.in_({reminder.booking_id for reminder in reminders}),
                            status_is(BookingStatus.CONFIRMED),
                        )
                    )
                ).all()
            )
            leased_until = now + timedelta(seconds=lease_seconds)
            claimed = []
            for reminder in reminders:
                if (reminder.booking_id, reminder.slot_start) not in confirmed:
                    continue  # cancelled or moved since it was planned
                if await self._lease(connection, reminder, now, leased_until):
                    claimed.append(reminder)
            return claimed

        if not reminders:
            return []
        return await self._transactions.write(lease)

    @staticmethod
    async def _lease(
        connection: AsyncConnection, reminder: Reminder, now: datetime, leased_until: datetime
    ) -> bool:
        """Insert the reminder's row leased, or take over its lapsed lease, unless it was sent. On
        PostgreSQL a concurrent claim of the same key waits for this one's commit, then finds the
        lease taken (the conflict's WHERE sees the committed row) and returns nothing."""
        statement = dialect_insert(connection, _sent).values(
            booking_id=reminder.booking_id,
            slot_start=reminder.slot_start,
            offset_seconds=_seconds(reminder.offset),
            channel=reminder.channel,
            attempts=0,
            last_error="",
            leased_until=leased_until,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["booking_id", "slot_start", "offset_seconds", "channel"],
            set_={"leased_until": statement.excluded.leased_until},
            where=and_(
                _sent.c.sent_at.is_(None), or_(_sent.c.leased_until.is_(None), _sent.c.leased_until <= now)
            ),
        ).returning(_sent.c.booking_id)
        return (await connection.execute(statement)).first() is not None

    async def mark_sent(self, reminders: Sequence[Reminder], at: datetime) -> None:
        async def record(connection: AsyncConnection) -> None:
            sent = or_(*(_key(reminder) for reminder in reminders))
            await connection.execute(
                update(_sent).where(sent).values(sent_at=at, leased_until=None, last_error="")
            )

        if reminders:
            await self._transactions.write_statement(record)

    async def mark_failed(self, reminder: Reminder, at: datetime, error: str, retry_at: datetime) -> None:
        async def record(connection: AsyncConnection) -> None:
            await connection.execute(
                update(_sent)
                .where(_key(reminder))
                .values(attempts=_sent.c.attempts + 1, last_error=error, leased_until=retry_at)
            )

        await self._transactions.write_statement(record)
