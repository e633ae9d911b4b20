"""The CalendarFeedKeys port on SQL: the `calendar_feeds` table, one row per practitioner."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncConnection

from booking_adapters.sql.tables import calendar_feeds
from booking_adapters.sql.transactions import Transactions
from booking_adapters.sql.upsert import upsert
from booking_core import FeedKey


class SqlCalendarFeedKeys:
    def __init__(self, transactions: Transactions) -> None:
        self._transactions = transactions

    async def key_of(self, practitioner_id: str) -> FeedKey | None:
        return await self._one(calendar_feeds.c.practitioner_id == practitioner_id)

    async def key_by_hash(self, token_hash: str) -> FeedKey | None:
        return await self._one(calendar_feeds.c.token_hash == token_hash)

    async def put(self, key: FeedKey) -> None:
        async def write(connection: AsyncConnection) -> None:
            row = {
                "practitioner_id": key.practitioner_id,
                "generation": key.generation,
                "token_hash": key.token_hash,
                "created_at": key.created_at,
            }
            await upsert(connection, calendar_feeds, ["practitioner_id"], row)

        await self._transactions.write(write)

    async def _one(self, condition: ColumnElement[bool]) -> FeedKey | None:
        async with self._transactions.read() as connection:
            row = (await connection.execute(select(calendar_feeds).where(condition))).mappings().first()
        if row is None:
            return None
        return FeedKey(row["practitioner_id"], row["generation"], row["token_hash"], row["created_at"])
