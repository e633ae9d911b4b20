"""What one worker's look for due reminders costs on PostgreSQL (`ReminderLedger.upcoming`, run at
most every 10 seconds per worker): the confirmed bookings starting within the longest offset, each
with when it was placed and what was sent of it, read and turned into bookings.

    PYTHONPATH=$PWD/src:$PWD .venv/bin/python -m bench.reminder_look [--bookings 1000]

Uses a throwaway database on BOOKING_TEST_POSTGRES_URL's server (default: the CI server).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import timedelta

from booking_adapters.sql import open_database
from booking_adapters.sql.scratch import scratch_database
from booking_core import Trigger
from booking_core.testing.contracts import NOW, hold, transition

_LOOKS = 25


async def _measure(url: str, count: int) -> None:
    database = await open_database(url)
    try:
        for n in range(count):  # one a minute from 01:00 on the sample day, over 50 practitioners
            held, event = hold(f"b{n:06d}", 60 + n % (24 * 60), practitioner_id=f"p{n // (24 * 60)}-{n % 50}")
            await database.store.add_if_free(held, event)
            paid, confirmation = transition(held, Trigger.PAYMENT_CONFIRMED, NOW)
            await database.store.save(held, paid, confirmation)
        seconds = []
        for _ in range(_LOOKS):
            began = time.perf_counter()
            upcoming = await database.reminders.upcoming(NOW, timedelta(days=2))
            seconds.append(time.perf_counter() - began)
        print(
            f"{len(upcoming)} confirmed bookings in the window: one look takes "
            f"{statistics.median(seconds) * 1000:.1f} ms (median of {_LOOKS}), "
            f"{min(seconds) * 1000:.1f} ms at best"
        )
    finally:
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=1000)
    args = parser.parse_args()
    admin = os.environ.get("BOOKING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    with scratch_database(admin, prefix="bench_reminders") as url:
        asyncio.run(_measure(url, args.bookings))


if __name__ == "__main__":
    main()
