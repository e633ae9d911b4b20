"""Many clients booking one slot at the same instant, from separate connections and processes.

Lives in its own module so that spawned processes can import the worker by name.
"""

from __future__ import annotations

import multiprocessing.queues
import multiprocessing.synchronize
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

import anyio

from booking_adapters.sql import open_database
from booking_core import BookingStore, SlotUnavailable
from booking_core.testing.contracts import HOLD, NOW, hold

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
