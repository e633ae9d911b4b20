"""The PractitionerDirectory port on SQL. `open_database` serves it through a CachedDirectory
(booking_adapters.directory_cache): reads from memory for a few seconds.

A removed practitioner keeps their row (`removed_at` set): their past bookings still name them.
Removal and a booking of the practitioner serialize on the practitioner's row: `remove` locks it
FOR UPDATE before it looks for bookings ahead, and the store's insert locks it FOR KEY SHARE (the
two conflict) and refuses if `removed_at` is set. Either the booking commits first and the removal
sees it and refuses, or the removal commits first and the insert, let through, sees `removed_at`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cachetools import LRUCache
from sqlalchemy import RowMapping, Select, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from booking_adapters.directory_cache import MAX_PRACTITIONERS
from booking_adapters.sql.conditions import ahead_at
from booking_adapters.sql.rows import practitioner_from_row, practitioner_row
from booking_adapters.sql.tables import bookings, practitioners
from booking_adapters.sql.transactions import Transactions
from booking_adapters.sql.upsert import upsert
from booking_core import BookingStatus, Practitioner, PractitionerHasLiveBookings, UnknownPractitioner

CACHE_SECONDS = 5.0  # how long `open_database` lets a process serve practitioners from memory


class SqlDirectory:
    def __init__(self, transactions: Transactions) -> None:
        self._transactions = transactions
        # id -> (row, practitioner) as last read: a practitioner read again unchanged (the cache in
        # front forgets them often) is not built again (cattrs: ~1 ms of CPU a row).
        # Bounded like the cache in front: a directory of more practitioners than that rebuilds some.
        self._parsed: LRUCache[str, tuple[tuple[Any, ...], Practitioner]] = LRUCache(MAX_PRACTITIONERS)

    async def get(self, practitioner_id: str, *, include_removed: bool = False) -> Practitioner | None:
        async with self._transactions.read() as connection:
            query = select(practitioners).where(practitioners.c.id == practitioner_id)
            row = (await connection.execute(query)).mappings().first()
        if row is None or (row["removed_at"] is not None and not include_removed):
            return None
        return self._from_row(row)

    async def list(self) -> Sequence[Practitioner]:
        query = select(practitioners).where(practitioners.c.removed_at.is_(None)).order_by(practitioners.c.id)
        async with self._transactions.read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [self._from_row(row) for row in rows]

    async def upsert(self, practitioner: Practitioner) -> None:
        async def write(connection: AsyncConnection) -> None:
            row = practitioner_row(practitioner) | {"removed_at": None}
            await upsert(connection, practitioners, ["id"], row)

        await self._transactions.write(write)

    async def remove(self, practitioner_id: str, now: datetime) -> None:
        async def close(connection: AsyncConnection) -> None:
            this = practitioners.c.id == practitioner_id
            lock = select(practitioners.c.removed_at).where(this).with_for_update()
            found = (await connection.execute(lock)).first()
            if found is None or found.removed_at is not None:
                raise UnknownPractitioner(practitioner_id)
            # A statement of its own, after the lock: it sees bookings committed while it waited.
            ahead = (await connection.execute(_ahead(practitioner_id, now))).all()
            if ahead:
                raise PractitionerHasLiveBookings(
                    practitioner_id,
                    held=[row.id for row in ahead if row.status == BookingStatus.PENDING_PAYMENT.value],
                    confirmed=[row.id for row in ahead if row.status == BookingStatus.CONFIRMED.value],
                )
            await connection.execute(update(practitioners).where(this).values(removed_at=now))

        await self._transactions.write(close)

    def _from_row(self, row: RowMapping) -> Practitioner:
        values = tuple(row.values())
        known = self._parsed.get(row["id"])
        if known is not None and known[0] == values:
            return known[1]
        practitioner = practitioner_from_row(row)
        self._parsed[practitioner.id] = (values, practitioner)
        return practitioner


def _ahead(practitioner_id: str, now: datetime) -> Select[tuple[str, str]]:
    """The practitioner's bookings still to come at `now`, soonest first (`Booking.is_ahead`)."""
    return (
        select(bookings.c.id, bookings.c.status)
        .where(bookings.c.practitioner_id == practitioner_id, ahead_at(now))
        .order_by(bookings.c.slot_start, bookings.c.id)
    )
