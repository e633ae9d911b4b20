"""CPU time of the SQL store's hot calls on PostgreSQL, one after another on one connection: what
this process spends per `add_if_free`, `save` (a change that records no event) and `busy`, and the
wall time of each. Only the store's public API, so the same script measures an older tree too:

    PYTHONPATH=$PWD/src:$PWD .venv/bin/python -m bench.store_cpu [--calls 1500]

Uses a throwaway database on BOOKING_TEST_POSTGRES_URL's server (default: the CI server).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from attrs import evolve

from booking_adapters.sql import open_database
from booking_adapters.sql.scratch import scratch_database
from booking_core import Booking, BookingEvent
from booking_core.testing.contracts import hold

_WARM_UP = 200  # psycopg prepares a statement on its 5th run; the pool and caches fill


def _booking(number: int) -> tuple[Booking, BookingEvent]:
    booking, event = hold(f"cpu-{number}", 0, practitioner_id="bench")
    shift = timedelta(hours=number)
    booking = evolve(
        booking, slot=booking.slot.widen(-shift, shift), occupied=booking.occupied.widen(-shift, shift)
    )
    return booking, event


async def _timed(calls: list[Callable[[], Awaitable[object]]]) -> tuple[float, float]:
    """(CPU ms, wall ms) per call."""
    cpu, wall = time.process_time(), time.perf_counter()
    for call in calls:
        await call()
    return (
        1000 * (time.process_time() - cpu) / len(calls),
        1000 * (time.perf_counter() - wall) / len(calls),
    )


async def measure(url: str, calls: int) -> dict[str, tuple[float, float]]:
    database = await open_database(url, pool_size=2)
    store = database.store
    numbers = itertools.count()
    try:
        for booking, event in (_booking(next(numbers)) for _ in range(_WARM_UP)):
            await store.add_if_free(booking, event)
        made = [_booking(next(numbers)) for _ in range(calls)]
        results = {
            "add_if_free": await _timed(
                [lambda b=booking, e=event: store.add_if_free(b, e) for booking, event in made]
            ),
            "save": await _timed(
                [
                    lambda b=booking: store.save(b, evolve(b, checkout_session_id="cs_1", version=2), None)
                    for booking, _ in made
                ]
            ),
            "busy": await _timed(
                [
                    lambda b=booking: store.busy(
                        "bench", b.occupied.widen(timedelta(days=3), timedelta(days=3)), b.created_at
                    )
                    for booking, _ in made
                ]
            ),
        }
    finally:
        await database.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.store_cpu", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1500, help="measured calls of each kind")
    args = parser.parse_args()
    admin_url = os.environ.get("BOOKING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    with scratch_database(admin_url, prefix="booking_bench") as url:
        results = asyncio.run(measure(url, args.calls))
    print(", ".join(f"{name} {cpu:.3f} ms CPU ({wall:.2f} ms wall)" for name, (cpu, wall) in results.items()))


if __name__ == "__main__":
    main()
