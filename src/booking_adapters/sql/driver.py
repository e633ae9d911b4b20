"""Statements compiled once for psycopg, for the hot paths that skip SQLAlchemy's execution layer
(`Transactions.driver_statement`, `driver_query`: ~0.5 ms of CPU a statement, measured)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from attrs import frozen
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_POSTGRESQL: Dialect = postgresql_psycopg.dialect()  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy
_PYFORMAT = re.compile(r"%\((\w+)\)s|%%")


@frozen
class DriverStatement:
    """A SQLAlchemy Core statement as PostgreSQL takes it: its text with PostgreSQL's own `$n`
    placeholders, one per name however often the statement uses it, run by psycopg's raw cursor.
    psycopg would otherwise parse a `%(name)s` text on every run when it is longer than 4 kB or has
    over 50 names (ADD_IF_FREE has both: ~0.8 ms of CPU a booking, measured); a raw query is sent as
    it is. `constants` are the values the statement binds itself (the 1 of `version + 1`, ...), to
    which each run adds its own."""

    sql: str
    names: tuple[str, ...]  # $n is the value of names[n - 1]
    constants: Mapping[str, Any]

    @classmethod
    def compile(cls, statement: ClauseElement) -> DriverStatement:
        compiled = statement.compile(dialect=_POSTGRESQL)
        assert isinstance(compiled, SQLCompiler)  # a statement, not DDL
        # A bindparam(name) without a value is the caller's to give; the others are the statement's.
        constants = {
            compiled.bind_names[bind]: bind.value for bind in compiled.binds.values() if not bind.required
        }
        numbers: dict[str, int] = {}

        def placeholder(match: re.Match[str]) -> str:
            name = match[1]
            return "%" if name is None else f"${numbers.setdefault(name, len(numbers) + 1)}"

        return cls(_PYFORMAT.sub(placeholder, str(compiled)), tuple(numbers), constants)

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        """The values of $1, $2, ... from the caller's `values` by name and the statement's own."""
        given = {**self.constants, **values} if self.constants else values
        return [given[name] for name in self.names]
