"""Booking inserts per second on PostgreSQL, beside a raw INSERT baseline measured in the same run.

    .venv/bin/python -m bench.bench_sql [--seconds 3] [--writers 8]

Scenarios, each for `--seconds` with `--writers` concurrent writers (one connection each), all on
one practitioner:
  distinct   every attempt books a slot of its own (no conflicts)
  same-slot  in rounds, all writers try one slot at once (1 wins, the rest SlotUnavailable)
  same-slot x50  the same with `--burst` racers (the shape of the exactly-one test)
each with the store as shipped (exclusion constraint; deadlock victims retried; on PostgreSQL one
statement compiled once and run on the psycopg connection) and with that same statement executed
through SQLAlchemy (what the compiled-once path saves); the baseline is a plain INSERT of the same
row into a copy of the table without constraints or indexes, one per transaction, in the same
pattern. "CPU ms" is this process's CPU time per attempt (the writers' loop, the store, the
driver). (A per-practitioner advisory lock was measured here too, was slower in every scenario and
was removed: docs/performance.md.)
Uses a throwaway database on BOOKING_TEST_POSTGRES_URL's server (default: the CI server).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import os
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from attrs import evolve, frozen
from sqlalchemy import insert, table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_adapters.sql import Database, open_database
from booking_adapters.sql.booking_writes import add_if_free_statement, caps_parameters, event_parameters
from booking_adapters.sql.rows import booking_row
from booking_adapters.sql.scratch import scratch_database
from booking_adapters.sql.tables import bookings
from booking_core import Booking, SlotUnavailable
from booking_core.testing.contracts import hold

_ids = itertools.count()
# The same columns without constraints or indexes: what a plain INSERT costs on this server.
_BASELINE = table("baseline_bookings", *[column._copy() for column in bookings.columns])
_ADD_IF_FREE = add_if_free_statement()


@frozen
class Result:
    scenario: str
    variant: str
    attempts: int
    booked: int
    seconds: float
    deadlocks: int
    cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.attempts / self.seconds


def _booking(slot_index: int) -> Booking:
    booking, _ = hold(f"bench-{next(_ids)}", 0, practitioner_id="bench")
    shift = timedelta(hours=slot_index)
    return evolve(
        booking, slot=booking.slot.widen(-shift, shift), occupied=booking.occupied.widen(-shift, shift)
    )


async def _store_insert(database: Database, slot_index: int) -> bool:
    booking = _booking(slot_index)
    booking_event = hold(booking.id, 0)[1]
    try:
        await database.store.add_if_free(booking, booking_event)
    except SlotUnavailable:
        return False
    return True


async def _through_sqlalchemy(engine: AsyncEngine, slot_index: int) -> bool:
    """The store's statement, executed by SQLAlchemy in autocommit (no retry of deadlock victims)."""
    booking = _booking(slot_index)
    booking_event = hold(booking.id, 0)[1]
    parameters = (
        booking_row(booking) | event_parameters(booking_event) | caps_parameters(None, booking_event.at)
    )
    try:
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            # Values bound into the statement: executed with parameters named as columns, SQLAlchemy
            # would SET those columns in the UPDATE of lapsed holds as well.
            inserted = (await autocommit.execute(_ADD_IF_FREE.params(parameters))).one()[0]
    except DBAPIError:  # an overlapping insert that raced this one
        return False
    return bool(inserted)


async def _raw_insert(engine: AsyncEngine, slot_index: int) -> bool:
    async with engine.begin() as connection:
        await connection.execute(insert(_BASELINE).values(booking_row(_booking(slot_index))))
    return True


async def _run(
    attempt: Callable[[int], Awaitable[bool]], *, same_slot: bool, writers: int, seconds: float
) -> tuple[int, int, float]:
    """(attempts, booked, elapsed) of `writers` tasks attempting for `seconds`."""
    deadline = time.perf_counter() + seconds
    barrier = asyncio.Barrier(writers)
    next_slot = itertools.count()
    counts = [0, 0]
    last_round: dict[int, bool] = {}  # decided once per round, so that all writers stop together

    async def writer(number: int) -> None:
        for round_number in itertools.count():  # bounded by the deadline
            if same_slot:
                await barrier.wait()
                if last_round.setdefault(round_number, time.perf_counter() >= deadline):
                    return
                slot = round_number
            else:
                if time.perf_counter() >= deadline:
                    return
                slot = next(next_slot)
            booked = await attempt(slot)  # awaited first: `counts[1] += await ...` would lose updates
            counts[0] += 1
            counts[1] += booked

    started = time.perf_counter()
    await asyncio.gather(*(writer(n) for n in range(writers)))
    return counts[0], counts[1], time.perf_counter() - started


async def _reset(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.exec_driver_sql(
            "TRUNCATE bookings, booking_events, outbox_deliveries, reminder_deliveries, baseline_bookings"
        )


async def measure(url: str, *, writers: int, burst: int, seconds: float) -> list[Result]:
    results = []
    database = await open_database(url, pool_size=max(writers, burst))
    try:
        for scenario, same_slot, concurrency in (
            ("distinct", False, writers),
            ("same-slot", True, writers),
            (f"same-slot x{burst}", True, burst),
        ):
            for name, attempt in (
                ("raw INSERT", functools.partial(_raw_insert, database.engine)),
                ("store", functools.partial(_store_insert, database)),
                (
                    "store's statement through SQLAlchemy",
                    functools.partial(_through_sqlalchemy, database.engine),
                ),
            ):
                await _reset(database)
                before = database.store.transactions.deadlocks
                cpu_before = time.process_time()
                attempts, booked, elapsed = await _run(
                    attempt, same_slot=same_slot, writers=concurrency, seconds=seconds
                )
                cpu = time.process_time() - cpu_before
                deadlocks = database.store.transactions.deadlocks - before
                results.append(Result(scenario, name, attempts, booked, elapsed, deadlocks, cpu))
    finally:
        await database.close()
    return results


def report(results: list[Result]) -> str:
    baseline = {r.scenario: r.per_second for r in results if r.variant == "raw INSERT"}
    lines = [
        "| scenario | variant | attempts/s | booked | deadlocks retried | vs raw INSERT | CPU ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = r.per_second / baseline[r.scenario]
        lines.append(
            f"| {r.scenario} | {r.variant} | {r.per_second:,.0f} | {r.booked} | {r.deadlocks} | {ratio:.2f}"
            f" | {1000 * r.cpu_seconds / max(r.attempts, 1):.2f} |"
        )
    return "\n".join(lines)


async def _prepare(url: str) -> None:
    database = await open_database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE baseline_bookings (LIKE bookings)")
    finally:
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_sql", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per scenario and variant (max 60)")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--burst", type=int, default=50, help="racers of the burst scenario")
    args = parser.parse_args()
    admin_url = os.environ.get("BOOKING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    with scratch_database(admin_url, prefix="booking_bench") as url:
        asyncio.run(_prepare(url))
        results = asyncio.run(
            measure(url, writers=args.writers, burst=args.burst, seconds=min(args.seconds, 60.0))
        )
    print(f"{args.writers} writers, {args.seconds:g} s each, PostgreSQL at {admin_url.split('@')[-1]}")
    print(report(results))


if __name__ == "__main__":
    main()
