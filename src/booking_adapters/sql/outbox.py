"""The Outbox port on SQL: the booking history is the outbox, delivery state is kept per channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from booking_adapters.sql.rows import event_from_row, event_row
from booking_adapters.sql.tables import booking_events, outbox_channels, outbox_deliveries
from booking_adapters.sql.transactions import Transactions
from booking_adapters.sql.upsert import dialect_insert, insert_ignoring_duplicates
from booking_core import BookingEvent, DeliveryFailure, OutboxItem

_events, _deliveries = booking_events, outbox_deliveries


async def append_events(connection: AsyncConnection, events: Sequence[BookingEvent]) -> None:
    """Add `events` to the history in this order, in the caller's transaction."""
    for event in events:  # one by one: a multi-row INSERT does not promise the order of `seq`
        await connection.execute(insert(booking_events).values(event_row(event)))


class SqlOutbox:
    def __init__(self, transactions: Transactions) -> None:
        self._transactions = transactions
        self._registered: set[str] = set()  # channels known to have their row (rows are never deleted)

    @property
    def transactions(self) -> Transactions:
        return self._transactions

    async def claim(
        self, channel: str, now: datetime, *, limit: int = 50, lease_seconds: int = 60
    ) -> Sequence[OutboxItem]:
        async def lease(connection: AsyncConnection) -> list[OutboxItem]:
            start = await self._channel_start(connection, channel, now)
            due = (
                select(_events, func.coalesce(_deliveries.c.attempts, 0).label("attempts"))
                .select_from(
                    _events.outerjoin(
                        _deliveries,
                        and_(_deliveries.c.channel == channel, _deliveries.c.seq == _events.c.seq),
                    )
                )
                .where(
                    _events.c.seq > start,
                    _deliveries.c.delivered_at.is_(None),
                    # never tried, or tried with a retry planned (no retry planned: given up)
                    or_(
                        func.coalesce(_deliveries.c.attempts, 0) == 0,
                        _deliveries.c.next_attempt_at.is_not(None),
                    ),
                    or_(_deliveries.c.next_attempt_at.is_(None), _deliveries.c.next_attempt_at <= now),
                    or_(_deliveries.c.leased_until.is_(None), _deliveries.c.leased_until <= now),
                )
                .order_by(_events.c.seq)
                .limit(limit)
            )
            rows = (await connection.execute(due)).mappings().all()
            if not rows:
                return []
            leased_until = now + timedelta(seconds=lease_seconds)
            statement = dialect_insert(connection, _deliveries).values(
                [
                    {
                        "channel": channel,
                        "seq": row["seq"],
                        "attempts": 0,
                        "last_error": "",
                        "leased_until": leased_until,
                    }
                    for row in rows
                ]
            )
            await connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["channel", "seq"], set_={"leased_until": statement.excluded.leased_until}
                )
            )
            return [OutboxItem(row["seq"], event_from_row(row), row["attempts"]) for row in rows]

        items = await self._transactions.write(lease)
        self._registered.add(channel)  # committed: its row exists from now on
        return items

    async def _channel_start(self, connection: AsyncConnection, channel: str, now: datetime) -> int:
        """The channel's start, registering it at the end of the history if it is new. The row
        lock serialises claims of one channel, so no two workers lease the same item."""
        if channel not in self._registered:
            end_of_history = select(func.coalesce(func.max(_events.c.seq), 0)).scalar_subquery()
            await connection.execute(
                insert_ignoring_duplicates(connection, outbox_channels).values(
                    channel=channel, start_seq=end_of_history, created_at=now
                )
            )
        query = select(outbox_channels.c.start_seq).where(outbox_channels.c.channel == channel)
        return int((await connection.execute(query.with_for_update())).scalar_one())

    async def mark_delivered(self, channel: str, seq: int, at: datetime) -> None:
        async def record(connection: AsyncConnection) -> None:
            statement = dialect_insert(connection, _deliveries).values(
                channel=channel, seq=seq, attempts=0, last_error="", delivered_at=at
            )
            await connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["channel", "seq"],
                    set_={"delivered_at": at, "leased_until": None, "last_error": ""},
                )
            )

        await self._transactions.write_statement(record)  # one statement: no BEGIN/COMMIT round trips

    async def mark_failed(
        self, channel: str, seq: int, at: datetime, error: str, retry_at: datetime | None
    ) -> None:
        async def record(connection: AsyncConnection) -> None:
            statement = dialect_insert(connection, _deliveries).values(
                channel=channel, seq=seq, attempts=1, last_error=error, next_attempt_at=retry_at
            )
            await connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["channel", "seq"],
                    set_={
                        "attempts": _deliveries.c.attempts + 1,
                        "next_attempt_at": retry_at,
                        "leased_until": None,
                        "last_error": error,
                    },
                )
            )

        await self._transactions.write_statement(record)

    async def failures(self, channel: str | None = None) -> Sequence[DeliveryFailure]:
        query = (
            select(_deliveries, _events.c.booking_id)
            .join(_events, _events.c.seq == _deliveries.c.seq)
            .where(_deliveries.c.attempts > 0, _deliveries.c.delivered_at.is_(None))
            .order_by(_deliveries.c.channel, _deliveries.c.seq)
        )
        if channel is not None:
            query = query.where(_deliveries.c.channel == channel)
        async with self._transactions.read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            DeliveryFailure(
                row["channel"],
                row["seq"],
                row["booking_id"],
                row["attempts"],
                row["last_error"],
                row["next_attempt_at"],
            )
            for row in rows
        ]
