"""Time off on SQL: the store's `add_time_off`, `time_off` and `remove_time_off`.

A booking that becomes live is checked against time off by the trigger of migration 0009; time off
is checked against live bookings here, in the transaction that adds it. On PostgreSQL both sides
take the practitioner's advisory lock (the trigger shared, this exclusively), and the check here
reads in a statement of its own after taking it, so it sees every booking committed before; SQLite
runs one write transaction at a time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, bindparam, delete, func, insert, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter

from booking_adapters.sql.booking_writes import release_lapsed_in_the_way
from booking_adapters.sql.conditions import live_at, overlapping, time_off_overlapping
from booking_adapters.sql.outbox import append_events
from booking_adapters.sql.rows import time_off_from_row, time_off_row
from booking_adapters.sql.tables import UtcDateTime, bookings, time_off
from booking_adapters.sql.transactions import Transactions
from booking_core import TimeOff, TimeOffConflicts, TimeRange

TIME_OFF_LOCK_NAMESPACE = 9  # migration 0009's trigger takes the same lock, shared

_PRACTITIONER: BindParameter[str] = bindparam("practitioner_id")
_START = bindparam("start", type_=UtcDateTime)
_END = bindparam("end", type_=UtcDateTime)

# The practitioner's lock, exclusively, until the transaction ends (PostgreSQL).
_LOCK = select(
    func.pg_advisory_xact_lock(
        literal_column(str(TIME_OFF_LOCK_NAMESPACE), Integer), func.hashtext(_PRACTITIONER)
    )
)
_LIVE_IN_THE_WAY = (
    select(bookings.c.id)
    .where(overlapping(_PRACTITIONER, _START, _END), live_at(bindparam("now", type_=UtcDateTime)))
    .order_by(bookings.c.slot_start, bookings.c.id)
)
_OVERLAPPING = (
    select(time_off)
    .where(time_off_overlapping(_PRACTITIONER, _START, _END))
    .order_by(time_off.c.span_start, time_off.c.span_end, time_off.c.id)
)
_REMOVE = (
    delete(time_off)
    .where(time_off.c.id == bindparam("time_off_id"), time_off.c.practitioner_id == _PRACTITIONER)
    .returning(*time_off.columns)
)


async def add_time_off(transactions: Transactions, block: TimeOff, now: datetime) -> None:
    span = block.span
    parameters = {"practitioner_id": block.practitioner_id, "start": span.start, "end": span.end, "now": now}

    async def insert_time_off(connection: AsyncConnection) -> None:
        # Holds lapsed by `now` do not count, but are released now: a late payment must not make
        # one live again without the check a booking that becomes live meets.
        released = await release_lapsed_in_the_way(connection, block.practitioner_id, span, "", now)
        if not transactions.is_sqlite:
            await connection.execute(_LOCK, parameters)
        in_the_way = (await connection.execute(_LIVE_IN_THE_WAY, parameters)).scalars().all()
        if in_the_way:
            raise TimeOffConflicts(in_the_way)
        await connection.execute(insert(time_off).values(time_off_row(block)))
        await append_events(connection, released)

    await transactions.write(insert_time_off)


async def time_off_within(
    transactions: Transactions, practitioner_id: str, window: TimeRange
) -> list[TimeOff]:
    parameters = {"practitioner_id": practitioner_id, "start": window.start, "end": window.end}
    async with transactions.read() as connection:
        rows = (await connection.execute(_OVERLAPPING, parameters)).mappings().all()
    return [time_off_from_row(row) for row in rows]


async def remove_time_off(
    transactions: Transactions, practitioner_id: str, time_off_id: str
) -> TimeOff | None:
    async def remove(connection: AsyncConnection) -> TimeOff | None:
        parameters = {"practitioner_id": practitioner_id, "time_off_id": time_off_id}
        row = (await connection.execute(_REMOVE, parameters)).mappings().first()
        return None if row is None else time_off_from_row(row)

    return await transactions.write(remove)
