"""The Outbox port on SQL: the booking history is the outbox, delivery state is kept per channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from attrs import frozen
from sqlalchemy import Integer, and_, bindparam, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
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


# The claim's statements, built once with bound parameters: SQLAlchemy then compiles each once (a
# multi-row VALUES list was compiled anew every time: ~5 ms of CPU a claim, by the profile).
_CHANNEL_START = (
    select(outbox_channels.c.start_seq)
    .where(outbox_channels.c.channel == bindparam("channel"))
    .with_for_update()
)
_DUE = (
    select(_events, func.coalesce(_deliveries.c.attempts, 0).label("attempts"))
    .select_from(
        _events.outerjoin(
            _deliveries,
            and_(_deliveries.c.channel == bindparam("channel"), _deliveries.c.seq == _events.c.seq),
        )
    )
    .where(
        _events.c.seq > bindparam("start"),
        _deliveries.c.delivered_at.is_(None),
        # never tried, or tried with a retry planned (no retry planned: given up)
        or_(func.coalesce(_deliveries.c.attempts, 0) == 0, _deliveries.c.next_attempt_at.is_not(None)),
        or_(_deliveries.c.next_attempt_at.is_(None), _deliveries.c.next_attempt_at <= bindparam("now")),
        or_(_deliveries.c.leased_until.is_(None), _deliveries.c.leased_until <= bindparam("now")),
    )
    .order_by(_events.c.seq)
    .limit(bindparam("limit", type_=Integer))
)


@frozen
class _Upserts:
    lease: Any  # channel, seq, leased_until: a new row leased, or the lease renewed
    delivered: Any  # channel, seq, delivered_at


def _upserts(dialect: Any) -> _Upserts:
    def new_row(column: str) -> Any:  # a delivery record not attempted yet, with `column` bound
        return dialect.insert(_deliveries).values(
            channel=bindparam("channel"),
            seq=bindparam("seq"),
            attempts=0,
            last_error="",
            **{column: bindparam(column)},
        )

    lease, delivered = new_row("leased_until"), new_row("delivered_at")
    return _Upserts(
        lease=lease.on_conflict_do_update(
            index_elements=["channel", "seq"], set_={"leased_until": lease.excluded.leased_until}
        ),
        delivered=delivered.on_conflict_do_update(
            index_elements=["channel", "seq"],
            set_={"delivered_at": delivered.excluded.delivered_at, "leased_until": None, "last_error": ""},
        ),
    )


_UPSERTS = {"postgresql": _upserts(postgresql), "sqlite": _upserts(sqlite)}

# PostgreSQL: every seq of a batch in one statement (an array), not one pipelined statement per row.
_PG_LEASE = """
INSERT INTO outbox_deliveries (channel, seq, attempts, last_error, leased_until)
SELECT %(channel)s, seq, 0, '', %(at)s FROM unnest(%(seqs)s::bigint[]) AS seq
ON CONFLICT (channel, seq) DO UPDATE SET leased_until = EXCLUDED.leased_until"""
_PG_DELIVERED = """
INSERT INTO outbox_deliveries (channel, seq, attempts, last_error, delivered_at)
SELECT %(channel)s, seq, 0, '', %(at)s FROM unnest(%(seqs)s::bigint[]) AS seq
ON CONFLICT (channel, seq) DO UPDATE SET delivered_at = EXCLUDED.delivered_at, leased_until = NULL,
    last_error = ''"""


async def _upsert_many(
    connection: AsyncConnection, which: str, channel: str, seqs: Sequence[int], at: datetime
) -> None:
    """Lease (`which` "lease") or record as delivered ("delivered") `seqs` of `channel` at `at`."""
    if connection.dialect.name == "postgresql":
        statement = _PG_LEASE if which == "lease" else _PG_DELIVERED
        await connection.exec_driver_sql(statement, {"channel": channel, "seqs": list(seqs), "at": at})
        return
    upserts = _UPSERTS[connection.dialect.name]
    column = "leased_until" if which == "lease" else "delivered_at"
    rows = [{"channel": channel, "seq": seq, column: at} for seq in seqs]
    await connection.execute(upserts.lease if which == "lease" else upserts.delivered, rows)


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
            parameters = {"channel": channel, "start": start, "now": now, "limit": limit}
            rows = (await connection.execute(_DUE, parameters)).mappings().all()
            if not rows:
                return []
            leased_until = now + timedelta(seconds=lease_seconds)
            await _upsert_many(connection, "lease", channel, [row["seq"] for row in rows], leased_until)
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
        return int((await connection.execute(_CHANNEL_START, {"channel": channel})).scalar_one())

    async def mark_delivered(self, channel: str, seqs: Sequence[int], at: datetime) -> None:
        """Every one of `seqs` in one execution."""

        async def record(connection: AsyncConnection) -> None:
            await _upsert_many(connection, "delivered", channel, seqs, at)

        if seqs:
            await self._transactions.write_statement(record)  # no BEGIN/COMMIT round trips

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
