"""The PractitionerDirectory port on SQL, with a short per-process cache of what it read.

Every availability and booking request asks for its practitioner, a booking request several times
(validation, notifications, the answer), and practitioners change rarely. Each query costs about a
millisecond of this process's CPU (SQLAlchemy, psycopg; docs/performance.md), so reads are served
from memory for `cache_seconds`. An upsert through this directory clears the cache at once; one made
by another process (`booking practitioners import` beside running workers) shows within that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncConnection

from booking_adapters.sql.rows import practitioner_from_row, practitioner_row
from booking_adapters.sql.tables import practitioners
from booking_adapters.sql.transactions import Transactions
from booking_adapters.sql.upsert import upsert
from booking_core import Practitioner

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
        self._by_id: dict[str, tuple[float, Practitioner]] = {}  # id -> (expires, practitioner)
        # id -> (row, practitioner) as last read: a forgotten practitioner read again unchanged (a
        # booking change voids the cache too) is not built again (cattrs: ~1 ms of CPU a row).
        self._parsed: dict[str, tuple[tuple[Any, ...], Practitioner]] = {}
        self._everyone: tuple[float, tuple[Practitioner, ...]] | None = None

    async def get(self, practitioner_id: str) -> Practitioner | None:
        cached = self._by_id.get(practitioner_id)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        async with self._transactions.read() as connection:
            query = select(practitioners).where(practitioners.c.id == practitioner_id)
            row = (await connection.execute(query)).mappings().first()
        if row is None:
            return None
        practitioner = self._from_row(row)
        self._remember((practitioner,))
        return practitioner

    async def list(self) -> Sequence[Practitioner]:
        if self._everyone is not None and self._everyone[0] > self._clock():
            return list(self._everyone[1])
        async with self._transactions.read() as connection:
            rows = (await connection.execute(select(practitioners).order_by(practitioners.c.id))).mappings()
            everyone = tuple(self._from_row(row) for row in rows)
        self._everyone = (self._remember(everyone), everyone)
        return list(everyone)

    async def upsert(self, practitioner: Practitioner) -> None:
        async def write(connection: AsyncConnection) -> None:
            await upsert(connection, practitioners, ["id"], practitioner_row(practitioner))

        try:
            await self._transactions.write(write)
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

    def _remember(self, found: Sequence[Practitioner]) -> float:
        """Cache `found` until the returned instant (nothing, with a cache time of 0)."""
        expires = self._clock() + self._cache_seconds
        if self._cache_seconds > 0:
            self._by_id.update((p.id, (expires, p)) for p in found)
        return expires
