"""The CredentialStore port on SQL: one row per credential, by the hash of its secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, RowMapping, and_, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from booking_adapters.sql.tables import practitioner_credentials as credentials
from booking_adapters.sql.transactions import Transactions
from booking_core import Credential, CredentialKind


def _valid(kind: CredentialKind, token_hash: str, now: datetime) -> ColumnElement[bool]:
    """`Credential.is_valid` at `now`, for the credential of `kind` with this hash."""
    return and_(
        credentials.c.token_hash == token_hash,
        credentials.c.kind == kind.value,
        or_(credentials.c.expires_at.is_(None), credentials.c.expires_at > now),
    )


def _credential(row: RowMapping) -> Credential:
    return Credential(
        token_hash=row["token_hash"],
        kind=CredentialKind(row["kind"]),
        practitioner_id=row["practitioner_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )


class SqlCredentialStore:
    def __init__(self, transactions: Transactions) -> None:
        self._transactions = transactions

    async def add(self, credential: Credential, now: datetime) -> None:
        async def write(connection: AsyncConnection) -> None:
            await connection.execute(delete(credentials).where(credentials.c.expires_at <= now))
            await connection.execute(
                insert(credentials).values(
                    token_hash=credential.token_hash,
                    kind=credential.kind.value,
                    practitioner_id=credential.practitioner_id,
                    created_at=credential.created_at,
                    expires_at=credential.expires_at,
                )
            )

        await self._transactions.write(write)

    async def find(self, kind: CredentialKind, token_hash: str, now: datetime) -> Credential | None:
        async with self._transactions.read() as connection:
            query = select(credentials).where(_valid(kind, token_hash, now))
            row = (await connection.execute(query)).mappings().first()
        return None if row is None else _credential(row)

    async def take(self, kind: CredentialKind, token_hash: str, now: datetime) -> Credential | None:
        # One DELETE ... RETURNING: of two racing takers, the second deletes nothing.
        async def write(connection: AsyncConnection) -> Credential | None:
            taken = delete(credentials).where(_valid(kind, token_hash, now)).returning(*credentials.c)
            row = (await connection.execute(taken)).mappings().first()
            return None if row is None else _credential(row)

        return await self._transactions.write(write)

    async def revoke(self, kind: CredentialKind, token_hash: str) -> None:
        async def write(connection: AsyncConnection) -> None:
            await connection.execute(
                delete(credentials).where(
                    credentials.c.token_hash == token_hash, credentials.c.kind == kind.value
                )
            )

        await self._transactions.write(write)

    async def revoke_all(self, practitioner_id: str, kind: CredentialKind) -> int:
        async def write(connection: AsyncConnection) -> int:
            result = await connection.execute(
                delete(credentials).where(
                    credentials.c.practitioner_id == practitioner_id, credentials.c.kind == kind.value
                )
            )
            return result.rowcount

        return await self._transactions.write(write)
