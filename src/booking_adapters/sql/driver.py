"""Statements compiled once for psycopg, for the hot paths that skip SQLAlchemy's execution layer
(`Transactions.driver_statement`, `driver_query`: ~0.5 ms of CPU a statement, measured)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_POSTGRESQL: Dialect = postgresql_psycopg.dialect()  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy


@frozen
class DriverStatement:
    """A SQLAlchemy Core statement as psycopg runs it: its text, in psycopg's %(name)s style, and
    the values it binds itself (the 1 of `version + 1`, ...), to which each run adds its own."""

    sql: str
    constants: Mapping[str, Any]

    @classmethod
    def compile(cls, statement: ClauseElement) -> DriverStatement:
        compiled = statement.compile(dialect=_POSTGRESQL)
        assert isinstance(compiled, SQLCompiler)  # a statement, not DDL
        # A bindparam(name) without a value is the caller's to give; the others are the statement's.
        constants = {
            compiled.bind_names[bind]: bind.value for bind in compiled.binds.values() if not bind.required
        }
        return cls(str(compiled), constants)

    def parameters(self, values: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**self.constants, **values} if self.constants else values
