"""The PractitionerDirectory port on SQL, with a short per-process cache of what it read.

Every availability and booking request asks for its practitioner, a booking request several times
(validation, notifications, the answer), and practitioners change rarely. Each query costs about a
millisecond of this process's CPU (SQLAlchemy, psycopg; docs/performance.md), so reads are served
from memory for `cache_seconds`. An upsert through this directory clears the cache at once; one made
by another process (`booking practitioners import` beside running workers) shows within that time.

A removed practitioner keeps their row (`removed_at` set): their past bookings still name them.
Removal and a booking of the practitioner serialize on the practitioner's row: `remove` locks it
FOR UPDATE before it looks for bookings ahead, and the store's insert locks it FOR KEY SHARE (the
two conflict) and refuses if `removed_at` is set. Either the booking commits first and the removal
sees it and refuses, or the removal commits first and the insert, let through, sees `removed_at`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Select, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from booking_adapters.sql.rows import practitioner_from_row, practitioner_row
from booking_adapters.sql.tables import bookings, practitioners
from booking_adapters.sql.transactions import Transactions
from booking_adapters.sql.upsert import upsert
from booking_core import BookingStatus, NotFound, Practitioner, PractitionerHasLiveBookings

CACHE_SECONDS = 5.0


class SqlDirectory:
    def __init__(
        self,
        transactions: Transactions,
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transactions = transactions
        self._cache_seconds = cache_seconds
        self._clock = clock
        # id -> (expires, practitioner, removed)
        self._by_id: dict[str, tuple[float, Practitioner, bool]] = {}
        # id -> (row, practitioner) as last read: a forgotten practitioner read again unchanged (a
        # booking change voids the cache too) is not built again (cattrs: ~1 ms of CPU a row).
        self._parsed: dict[str, tuple[tuple[Any, ...], Practitioner]] = {}
        self._everyone: tuple[float, tuple[Practitioner, ...]] | None = None

    async def get(self, practitioner_id: str, *, include_removed: bool = False) -> Practitioner | None:
        cached = self._by_id.get(practitioner_id)
        if cached is None or cached[0] <= self._clock():
            async with self._transactions.read() as connection:
                query = select(practitioners).where(practitioners.c.id == practitioner_id)
                row = (await connection.execute(query)).mappings().first()
            if row is None:
                return None
            cached = (self._remember((row,)), self._from_row(row), row["removed_at"] is not None)
        _expires, practitioner, removed = cached
        return None if removed and not include_removed else practitioner

    async def list(self) -> Sequence[Practitioner]:
        if self._everyone is not None and self._everyone[0] > self._clock():
            return list(self._everyone[1])
        query = select(practitioners).where(practitioners.c.removed_at.is_(None)).order_by(practitioners.c.id)
        async with self._transactions.read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        everyone = tuple(self._from_row(row) for row in rows)
        self._everyone = (self._remember(rows), everyone)
        return list(everyone)

    async def upsert(self, practitioner: Practitioner) -> None:
        async def write(connection: AsyncConnection) -> None:
            row = practitioner_row(practitioner) | {"removed_at": None}
            await upsert(connection, practitioners, ["id"], row)

        try:
            await self._transactions.write(write)
        finally:
            self.forget()

    async def remove(self, practitioner_id: str, now: datetime) -> None:
        async def close(connection: AsyncConnection) -> None:
            this = practitioners.c.id == practitioner_id
            lock = select(practitioners.c.removed_at).where(this).with_for_update()
            found = (await connection.execute(lock)).first()
            if found is None or found.removed_at is not None:
                raise NotFound(f"There is no practitioner {practitioner_id!r}.")
            # A statement of its own, after the lock: it sees bookings committed while it waited.
            ahead = (await connection.execute(_ahead(practitioner_id, now))).all()
            if ahead:
                raise PractitionerHasLiveBookings(
                    practitioner_id,
                    held=[row.id for row in ahead if row.status == BookingStatus.PENDING_PAYMENT.value],
                    confirmed=[row.id for row in ahead if row.status == BookingStatus.CONFIRMED.value],
                )
            await connection.execute(update(practitioners).where(this).values(removed_at=now))

        try:
            await self._transactions.write(close)
        finally:
            self.forget()

    def forget(self, practitioner_id: str | None = None) -> None:
        """Read `practitioner_id` (None: everyone) from the database next time."""
        if practitioner_id is None:
            self._by_id.clear()
        else:
            self._by_id.pop(practitioner_id, None)
        self._everyone = None

    def _from_row(self, row: RowMapping) -> Practitioner:
        values = tuple(row.values())
        known = self._parsed.get(row["id"])
        if known is not None and known[0] == values:
            return known[1]
        practitioner = practitioner_from_row(row)
        self._parsed[practitioner.id] = (values, practitioner)
        return practitioner

    def _remember(self, rows: Sequence[RowMapping]) -> float:
        """Cache the practitioners of `rows` until the returned instant (nothing, with a cache time of 0)."""
        expires = self._clock() + self._cache_seconds
        if self._cache_seconds > 0:
            self._by_id.update(
                (row["id"], (expires, self._from_row(row), row["removed_at"] is not None)) for row in rows
            )
        return expires


def _ahead(practitioner_id: str, now: datetime) -> Select[tuple[str, str]]:
    """The practitioner's bookings still to come at `now`, soonest first (`Booking.is_ahead`)."""
    return (
        select(bookings.c.id, bookings.c.status)
        .where(
            bookings.c.practitioner_id == practitioner_id,
            or_(
                and_(bookings.c.status == BookingStatus.CONFIRMED.value, bookings.c.slot_end > now),
                and_(
                    bookings.c.status == BookingStatus.PENDING_PAYMENT.value,
                    bookings.c.hold_expires_at > now,
                ),
            ),
        )
        .order_by(bookings.c.slot_start, bookings.c.id)
    )
