"""Many clients booking one slot (or one day under its limit) at the same instant, from separate
connections and processes.

Lives in its own module so that spawned processes can import the worker by name.
"""

from __future__ import annotations

import multiprocessing.queues
import multiprocessing.synchronize
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

import anyio

from booking_adapters.sql import open_database
from booking_core import BookingLimit, BookingLimitReached, BookingStore, SlotUnavailable
from booking_core.testing.contracts import FREE, HOLD, NOW, client, day_limit, hold

SLOT_MINUTE = 9 * 60
RACE_AT = NOW + HOLD  # when the race starts, a hold placed at NOW has just lapsed


async def race(
    store: BookingStore,
    booking_ids: Sequence[str],
    *,
    start: Callable[[], Awaitable[None]] | None = None,
) -> Counter[str]:
    """Every id tries to book the same slot at once; the outcome of each, counted."""
    outcomes: Counter[str] = Counter()

    async def attempt(booking_id: str) -> None:
        try:
            await store.add_if_free(*hold(booking_id, SLOT_MINUTE, after=10, at=RACE_AT))
        except SlotUnavailable:
            outcomes["unavailable"] += 1
        except Exception as error:  # reported to the test, which fails on anything unexpected
            outcomes[f"error: {type(error).__name__}: {error}"] += 1
        else:
            outcomes["booked"] += 1

    async with anyio.create_task_group() as tasks:
        if start is not None:
            await start()
        for booking_id in booking_ids:
            tasks.start_soon(attempt, booking_id)
    return outcomes


async def _race_in_process(
    url: str, booking_ids: list[str], barrier: multiprocessing.synchronize.Barrier
) -> Counter[str]:
    database = await open_database(url, pool_size=len(booking_ids))
    try:
        # Open every connection before the start line, so the race is about the slot only.
        connections = [await database.engine.connect() for _ in booking_ids]
        for connection in connections:
            await connection.close()

        async def start() -> None:
            await anyio.to_thread.run_sync(lambda: barrier.wait(timeout=120))

        return await race(database.store, booking_ids, start=start)
    finally:
        await database.close()


def race_in_process(
    url: str,
    booking_ids: list[str],
    barrier: multiprocessing.synchronize.Barrier,
    results: multiprocessing.queues.Queue[dict[str, int]],
) -> None:
    """Entry point of one spawned process: race, then report the outcomes on `results`."""
    try:
        results.put(dict(anyio.run(_race_in_process, url, booking_ids, barrier)))
    except BaseException as error:
        results.put({f"process failed: {type(error).__name__}: {error}": len(booking_ids)})
        raise


# -- a day's limit: clients booking different slots of one day at once ------------------------------

DAY_LIMIT = 3
SLOT_EVERY = 20  # minutes between the racing clients' slots (15 minutes each: none overlaps another)


def limited_day() -> BookingLimit:
    return day_limit(DAY_LIMIT)


async def race_for_the_day(
    store: BookingStore,
    client_numbers: Sequence[int],
    *,
    start: Callable[[], Awaitable[None]] | None = None,
) -> Counter[str]:
    """Every client books a free slot of its own on DAY at once, under the day's limit; the outcome
    of each, counted."""
    outcomes: Counter[str] = Counter()

    async def attempt(number: int) -> None:
        minute = SLOT_MINUTE + SLOT_EVERY * number
        booking = hold(f"c{number}", minute, length=15, price=FREE, client=client(number), at=RACE_AT)
        try:
            await store.add_if_free(*booking, limits=[limited_day()])
        except BookingLimitReached:
            outcomes["limit reached"] += 1
        except Exception as error:  # reported to the test, which fails on anything unexpected
            outcomes[f"error: {type(error).__name__}: {error}"] += 1
        else:
            outcomes["booked"] += 1

    async with anyio.create_task_group() as tasks:
        if start is not None:
            await start()
        for number in client_numbers:
            tasks.start_soon(attempt, number)
    return outcomes


async def _race_for_the_day_in_process(
    url: str, client_numbers: list[int], barrier: multiprocessing.synchronize.Barrier
) -> Counter[str]:
    database = await open_database(url, pool_size=len(client_numbers))
    try:
        connections = [await database.engine.connect() for _ in client_numbers]
        for connection in connections:
            await connection.close()

        async def start() -> None:
            await anyio.to_thread.run_sync(lambda: barrier.wait(timeout=120))

        return await race_for_the_day(database.store, client_numbers, start=start)
    finally:
        await database.close()


def race_for_the_day_in_process(
    url: str,
    client_numbers: list[int],
    barrier: multiprocessing.synchronize.Barrier,
    results: multiprocessing.queues.Queue[dict[str, int]],
) -> None:
    """Entry point of one spawned process: race for the day, then report the outcomes on `results`."""
    try:
        results.put(dict(anyio.run(_race_for_the_day_in_process, url, client_numbers, barrier)))
    except BaseException as error:
        results.put({f"process failed: {type(error).__name__}: {error}": len(client_numbers)})
        raise
