"""Many clients booking one slot (or one day under its limit, or moving their bookings into one
slot) at the same instant, from separate connections and processes.

Lives in its own module so that spawned processes can import the worker by name.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio

from booking_adapters.sql import open_database
from booking_core import (
    Booking,
    BookingEvent,
    BookingLimit,
    BookingLimitReached,
    BookingStore,
    SlotUnavailable,
    Trigger,
)
from booking_core.testing.contracts import FREE, HOLD, NOW, client, day_limit, hold, transition
from booking_core.testing.move_contracts import moved

SLOT_MINUTE = 9 * 60
RACE_AT = NOW + HOLD  # when the race starts, a hold placed at NOW has just lapsed


Attempt = Callable[[], Awaitable[object]]
Race = Callable[..., Awaitable[Counter[str]]]  # (store, what each racer takes, *, start) -> outcomes


async def _counted(
    attempts: Sequence[Attempt],
    refused: type[Exception],
    refusal: str,
    start: Callable[[], Awaitable[None]] | None,
) -> Counter[str]:
    """Run every attempt at once (after `start`); count each as booked, `refusal` or an error."""
    outcomes: Counter[str] = Counter()

    async def run(attempt: Attempt) -> None:
        try:
            await attempt()
        except refused:
            outcomes[refusal] += 1
        except Exception as error:  # reported to the test, which fails on anything unexpected
            outcomes[f"error: {type(error).__name__}: {error}"] += 1
        else:
            outcomes["booked"] += 1

    async with anyio.create_task_group() as tasks:
        if start is not None:
            await start()
        for attempt in attempts:
            tasks.start_soon(run, attempt)
    return outcomes


async def race(
    store: BookingStore,
    booking_ids: Sequence[str],
    *,
    start: Callable[[], Awaitable[None]] | None = None,
) -> Counter[str]:
    """Every id tries to book the same slot at once; the outcome of each, counted."""

    def attempt(booking_id: str) -> Attempt:
        return lambda: store.add_if_free(*hold(booking_id, SLOT_MINUTE, after=10, at=RACE_AT))

    attempts = [attempt(booking_id) for booking_id in booking_ids]
    return await _counted(attempts, SlotUnavailable, "unavailable", start)


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

    def attempt(number: int) -> Attempt:
        minute = SLOT_MINUTE + SLOT_EVERY * number
        booking = hold(f"c{number}", minute, length=15, price=FREE, client=client(number), at=RACE_AT)
        return lambda: store.add_if_free(*booking, limits=[limited_day()])

    attempts = [attempt(number) for number in client_numbers]
    return await _counted(attempts, BookingLimitReached, "limit reached", start)


# -- moves: confirmed bookings all moving into one free slot while a new booking races them ----------

MOVE_TO_MINUTE = 18 * 60  # free: the movers hold the day's earlier slots
NEW_BOOKING = "new"  # the racer that books the slot anew instead of moving into it


def mover(number: int) -> tuple[tuple[Booking, BookingEvent], tuple[Booking, BookingEvent]]:
    """The hold of mover `m{number}` on a slot of its own of DAY, and its payment (the same in every
    process, so that a racer knows the stored booking without reading it)."""
    held = hold(f"m{number}", 50 * number, client=client(number))
    return held, transition(held[0], Trigger.PAYMENT_CONFIRMED, NOW)


async def place_movers(store: BookingStore, count: int) -> None:
    """The bookings of movers 0 to `count` - 1, stored and confirmed."""
    for number in range(count):
        (booking, placed), (paid, payment) = mover(number)
        await store.add_if_free(booking, placed)
        await store.save(booking, paid, payment)


def move_racers(count: int) -> list[str]:
    """The racers of race_to_move: the ids of place_movers' `count` bookings, then NEW_BOOKING."""
    return [f"m{number}" for number in range(count)] + [NEW_BOOKING]


async def race_to_move(
    store: BookingStore,
    racers: Sequence[str],
    *,
    start: Callable[[], Awaitable[None]] | None = None,
) -> Counter[str]:
    """Every mover (of place_movers) moves to MOVE_TO_MINUTE at once, and NEW_BOOKING books a slot
    overlapping it; the outcome of each, counted ("booked" for a move too)."""

    def attempt(racer: str) -> Attempt:
        if racer == NEW_BOOKING:
            booking = hold(NEW_BOOKING, MOVE_TO_MINUTE + 30, client=client(999), at=RACE_AT)
            return lambda: store.add_if_free(*booking)
        _held, (paid, _payment) = mover(int(racer.removeprefix("m")))
        return lambda: store.save(paid, *moved(paid, MOVE_TO_MINUTE, at=RACE_AT))

    attempts = [attempt(racer) for racer in racers]
    return await _counted(attempts, SlotUnavailable, "unavailable", start)


# -- the same races from several processes -----------------------------------------------------------


async def _race_in_this_process(
    race_of: Race, url: str, racers: Sequence[object], barrier: multiprocessing.synchronize.Barrier
) -> Counter[str]:
    database = await open_database(url, pool_size=len(racers))
    try:
        # Open every connection before the start line, so the race is about the slot only.
        connections = [await database.engine.connect() for _ in racers]
        for connection in connections:
            await connection.close()

        async def start() -> None:
            await anyio.to_thread.run_sync(lambda: barrier.wait(timeout=120))

        return await race_of(database.store, racers, start=start)
    finally:
        await database.close()


def _report(
    race_of: Race,
    url: str,
    racers: Sequence[object],
    barrier: multiprocessing.synchronize.Barrier,
    results: multiprocessing.queues.Queue[dict[str, int]],
) -> None:
    """One spawned process: race, then report the outcomes on `results`."""
    try:
        results.put(dict(anyio.run(_race_in_this_process, race_of, url, racers, barrier)))
    except BaseException as error:
        results.put({f"process failed: {type(error).__name__}: {error}": len(racers)})
        raise


def race_in_processes(race_of: Race, url: str, racers: Sequence[Any], processes: int) -> Counter[str]:
    """Split `racers` over `processes` spawned interpreters (nothing shared but the database), each
    running `race_of` on its share (a module-level race, such as race, race_for_the_day or
    race_to_move: the process imports it by name); their outcomes, summed. Raises queue.Empty if a
    process does not report within 180 s."""
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(processes), spawn.Queue()
    workers = [
        spawn.Process(target=_report, args=(race_of, url, list(racers[p::processes]), barrier, results))
        for p in range(processes)
    ]
    try:
        for worker in workers:
            worker.start()
        outcomes: Counter[str] = Counter()
        for _ in workers:
            outcomes.update(results.get(timeout=180))
        return outcomes
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
