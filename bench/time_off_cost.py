"""What the time-off check adds to a booking's insert on PostgreSQL, measured inside the server: the
execution time of the store's one insert statement (`add_if_free`, EXPLAIN ANALYZE) with migration
0009's trigger enabled and disabled, in alternating blocks on one database, and the trigger's own
time. The practitioner has past and future time off, as a real one would:

    PYTHONPATH=$PWD/src:$PWD .venv/bin/python -m bench.time_off_cost [--inserts 1000]

Uses a throwaway database on BOOKING_TEST_POSTGRES_URL's server (default: the CI server).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
from datetime import timedelta
from typing import Any

import psycopg
from attrs import evolve
from sqlalchemy.engine import make_url

from booking_adapters.sql.booking_writes import ADD_IF_FREE, caps_parameters, event_parameters
from booking_adapters.sql.rows import booking_row, time_off_row
from booking_adapters.sql.scratch import scratch_database
from booking_core.testing.contracts import hold
from booking_core.testing.time_off_contracts import time_off

_BLOCK = 50  # inserts per block; blocks alternate between the trigger on and off
_TRIGGER = "bookings_time_off_insert"


def _insert(number: int) -> dict[str, Any]:
    booking, event = hold(f"cost-{number}", 0, practitioner_id="bench")
    shift = timedelta(hours=number)
    booking = evolve(
        booking, slot=booking.slot.widen(-shift, shift), occupied=booking.occupied.widen(-shift, shift)
    )
    return ADD_IF_FREE.parameters(
        booking_row(booking) | event_parameters(event) | caps_parameters(None, event.at)
    )


def _explained(connection: psycopg.Connection[Any], parameters: dict[str, Any]) -> tuple[float, float]:
    """(execution ms, the time-off trigger's ms) of one insert."""
    row = connection.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {ADD_IF_FREE.sql}", parameters).fetchone()
    assert row is not None
    (plan,) = row[0]
    trigger = sum(t["Time"] for t in plan.get("Triggers", []) if t["Trigger Name"] == _TRIGGER)
    return plan["Execution Time"], trigger


def measure(url: str, inserts: int) -> dict[str, list[float]]:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    numbers = itertools.count()
    times: dict[str, list[float]] = {"on": [], "off": [], "trigger": []}
    with psycopg.connect(conninfo, autocommit=True) as connection:
        # Ten minutes off every third day, past and future, between the bookings (each in an hour's
        # first 50 minutes): the trigger's index finds those not yet over, and refuses nothing.
        for day in range(-60, 60, 3):
            block = time_off(f"off-{day}", 50, 60, practitioner_id="bench")
            shift = timedelta(days=day)
            block = evolve(block, span=block.span.widen(-shift, shift))
            connection.execute(
                "INSERT INTO time_off VALUES (%(id)s, %(practitioner_id)s, %(span_start)s, %(span_end)s,"
                " %(note)s, %(created_at)s)",
                time_off_row(block),
            )
        for _ in range(_BLOCK):  # warm up: plans, caches
            _explained(connection, _insert(next(numbers)))
        for block_number in range(2 * inserts // _BLOCK):
            enabled = block_number % 2 == 0
            switch = "ENABLE" if enabled else "DISABLE"
            connection.execute(f"ALTER TABLE bookings {switch} TRIGGER {_TRIGGER}")
            for _ in range(_BLOCK):
                execution, trigger = _explained(connection, _insert(next(numbers)))
                assert trigger > 0 or not enabled, "the insert did not run the trigger"
                times["on" if enabled else "off"].append(execution)
                if enabled:
                    times["trigger"].append(trigger)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.time_off_cost", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--inserts", type=int, default=1000, help="measured inserts with the trigger, and without"
    )
    args = parser.parse_args()
    admin_url = os.environ.get("BOOKING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    with scratch_database(admin_url, prefix="booking_bench") as url:
        times = measure(url, args.inserts)
    print(
        f"insert execution, median ms: trigger on {statistics.median(times['on']):.3f}, "
        f"off {statistics.median(times['off']):.3f}; the trigger itself: median "
        f"{statistics.median(times['trigger']):.3f} ms, mean {statistics.mean(times['trigger']):.3f} ms"
    )


if __name__ == "__main__":
    main()
