"""INSERT ... ON CONFLICT in the dialect at hand (both PostgreSQL and SQLite speak it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def dialect_insert(connection: AsyncConnection, table: Table) -> Any:
    """An INSERT with the dialect's `on_conflict_do_nothing` / `on_conflict_do_update`."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def insert_ignoring_duplicates(connection: AsyncConnection, table: Table) -> Any:
    """An INSERT that does nothing when the row's key exists (recording twice is harmless)."""
    return dialect_insert(connection, table).on_conflict_do_nothing()


async def upsert(connection: AsyncConnection, table: Table, keys: Sequence[str], row: dict[str, Any]) -> None:
    """Insert `row`, or overwrite the row with the same `keys`."""
    statement = dialect_insert(connection, table).values(row)
    changes = {name: statement.excluded[name] for name in row if name not in keys}
    await connection.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changes))
