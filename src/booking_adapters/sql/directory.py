"""The PractitionerDirectory port on SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from booking_adapters.sql.rows import practitioner_from_row, practitioner_row
from booking_adapters.sql.tables import practitioners
from booking_adapters.sql.transactions import Transactions
from booking_adapters.sql.upsert import upsert
from booking_core import Practitioner


class SqlDirectory:
    def __init__(self, transactions: Transactions) -> None:
        self._transactions = transactions

    async def get(self, practitioner_id: str) -> Practitioner | None:
        async with self._transactions.read() as connection:
            query = select(practitioners).where(practitioners.c.id == practitioner_id)
            row = (await connection.execute(query)).mappings().first()
        return None if row is None else practitioner_from_row(row)

    async def list(self) -> Sequence[Practitioner]:
        async with self._transactions.read() as connection:
            rows = (await connection.execute(select(practitioners).order_by(practitioners.c.id))).mappings()
            return [practitioner_from_row(row) for row in rows]

    async def upsert(self, practitioner: Practitioner) -> None:
        async def write(connection: AsyncConnection) -> None:
            await upsert(connection, practitioners, ["id"], practitioner_row(practitioner))

        await self._transactions.write(write)
