"""Throwaway PostgreSQL databases for test suites and benchmarks: created under a unique name on the
server of an admin URL, migrated, and dropped afterwards (also by other people's contract tests)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from booking_adapters.sql.migrate import upgrade


def _admin(admin_url: str) -> psycopg.Connection[tuple[object, ...]]:
    parsed = make_url(admin_url).set(drivername="postgresql")
    return psycopg.connect(parsed.render_as_string(hide_password=False), autocommit=True, connect_timeout=5)


def check_reachable(admin_url: str) -> None:
    """Raise psycopg.OperationalError if the server cannot be reached."""
    with _admin(admin_url) as connection:
        connection.execute("SELECT 1")


@contextmanager
def scratch_database(admin_url: str, prefix: str = "booking_test", revision: str = "head") -> Iterator[str]:
    """Yield the URL of a new database on `admin_url`'s server, migrated to `revision`; drop it on exit."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with _admin(admin_url) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url, revision)
        yield url
    finally:
        with _admin(admin_url) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
