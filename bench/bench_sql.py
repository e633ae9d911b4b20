"""Booking inserts per second on PostgreSQL, beside a raw INSERT baseline measured in the same run.

    .venv/bin/python -m bench.bench_sql [--seconds 3] [--writers 8]

Scenarios, each for `--seconds` with `--writers` concurrent writers (one connection each), all on
one practitioner:
  distinct   every attempt books a slot of its own (no conflicts)
  same-slot  in rounds, all writers try one slot at once (1 wins, the rest SlotUnavailable)
  same-slot x50  the same with `--burst` racers (the shape of the exactly-one test)
each with the store as shipped (exclusion constraint; deadlock victims retried); the baseline is a
plain INSERT of the same row into a copy of the table without constraints or indexes, one per
transaction, in the same pattern. (A per-practitioner advisory lock was measured here too, was
slower in every scenario and was removed: docs/performance.md.)
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
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_adapters.sql import Database, open_database
from booking_adapters.sql.rows import booking_row
from booking_adapters.sql.scratch import scratch_database
from booking_adapters.sql.tables import bookings
from booking_core import Booking, SlotUnavailable
from booking_core.testing.contracts import hold

_ids = itertools.count()
# The same columns without constraints or indexes: what a plain INSERT costs on this server.
_BASELINE = table("baseline_bookings", *[column._copy() for column in bookings.columns])


@frozen
class Result:
    scenario: str
    variant: str
    attempts: int
    booked: int
    seconds: float
    deadlocks: int

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
            "TRUNCATE bookings, booking_events, outbox_deliveries, baseline_bookings"
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
                ("constraint + retry", functools.partial(_store_insert, database)),
            ):
                await _reset(database)
                before = database.store.transactions.deadlocks
                attempts, booked, elapsed = await _run(
                    attempt, same_slot=same_slot, writers=concurrency, seconds=seconds
                )
                deadlocks = database.store.transactions.deadlocks - before
                results.append(Result(scenario, name, attempts, booked, elapsed, deadlocks))
    finally:
        await database.close()
    return results


def report(results: list[Result]) -> str:
    baseline = {r.scenario: r.per_second for r in results if r.variant == "raw INSERT"}
    lines = [
        "| scenario | variant | attempts/s | booked | deadlocks retried | vs raw INSERT |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = r.per_second / baseline[r.scenario]
        lines.append(
            f"| {r.scenario} | {r.variant} | {r.per_second:,.0f} | {r.booked} | {r.deadlocks} | {ratio:.2f} |"
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
