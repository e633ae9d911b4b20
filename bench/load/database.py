"""The run's own PostgreSQL database, and the raw INSERT rate of its server (a ceiling).

The database is created under a unique name on the admin URL's server, migrated with
`booking db upgrade` (the operator's path), and dropped on exit whatever happened.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bench.load.processes import booking_command, run_once
from bench.load.sample import Sample
from booking_adapters.sql.rows import booking_row
from booking_core.testing.contracts import hold

LIVE = ("pending_payment", "confirmed")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_database(admin_url: str, env: Mapping[str, str]) -> Iterator[str]:
    """Yield the URL of a new database migrated by `booking db upgrade`; drop it on exit."""
    name = f"booking_load_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        run_once(booking_command("db", "upgrade"), {**env, "DATABASE_URL": url})
        yield url
    finally:
        with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=5) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def live_bookings(url: str, practitioner_id: str) -> int:
    with psycopg.connect(_libpq(url), connect_timeout=5) as connection:
        row = connection.execute(
            "SELECT count(*) FROM bookings WHERE practitioner_id = %s AND status = ANY(%s)",
            (practitioner_id, list(LIVE)),
        ).fetchone()
    assert row is not None
    return int(row[0])


async def raw_insert_rate(url: str, *, connections: int, seconds: float, warmup: float) -> Sample:
    """Single-row INSERT transactions into a copy of `bookings` without constraints or indexes,
    through psycopg's async driver (the service's), from `connections` connections at once."""
    template = booking_row(hold("raw", 0)[0])
    columns = list(template)
    statement = sql.SQL("INSERT INTO raw_bookings ({}) VALUES ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
    )
    numbers = itertools.count()
    async with await psycopg.AsyncConnection.connect(_libpq(url), autocommit=True) as setup:
        await setup.execute("CREATE TABLE IF NOT EXISTS raw_bookings (LIKE bookings)")
    warm, sample = Sample(), Sample()
    started = time.perf_counter()
    measuring_from = started + warmup
    deadline = measuring_from + seconds

    async def writer() -> None:
        async with await psycopg.AsyncConnection.connect(_libpq(url), autocommit=True) as connection:
            while (now := time.perf_counter()) < deadline:
                n = next(numbers)
                row = template | {"id": f"raw-{n}", "slot_start": template["slot_start"] + timedelta(hours=n)}
                await connection.execute(statement, row)
                (sample if now >= measuring_from else warm).record(200, time.perf_counter() - now)

    await asyncio.gather(*(writer() for _ in range(connections)))
    sample.seconds = time.perf_counter() - measuring_from
    return sample
