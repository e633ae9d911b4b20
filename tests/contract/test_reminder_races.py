"""Two relays racing over the same data send each reminder once: memory (one ledger, two relays),
SQLite and PostgreSQL (two databases opened on one file or server, as two workers or hosts)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from attrs import define, evolve, field

from booking_adapters.memory import ManualClock, MemoryBookingStore, MemoryDirectory, MemoryReminderLedger
from booking_adapters.sql import open_database
from booking_core import (
    Booking,
    BookingStore,
    Practitioner,
    PractitionerDirectory,
    Reminder,
    ReminderLedger,
    ReminderRelay,
)
from booking_core.testing.contracts import sample_practitioner
from booking_core.testing.reminder_contracts import confirmed
from tests.contract.conftest import ADAPTERS, open_empty

pytestmark = pytest.mark.anyio
BOOKINGS = 12
ROUNDS = 3
OFFSETS = (timedelta(hours=24), timedelta(hours=2))


@define
class Recorded:
    """Shared by both relays: every reminder either of them sent."""

    sent: list[Reminder] = field(factory=list)
    channel: str = "email"

    async def send(self, reminder: Reminder, booking: Booking, practitioner: Practitioner) -> None:
        await asyncio.sleep(0)  # let the other relay run in between
        self.sent.append(reminder)


@define
class Side:
    store: BookingStore
    directory: PractitionerDirectory
    ledger: ReminderLedger


@pytest.fixture(params=ADAPTERS)
async def sides(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[tuple[Side, Side]]:
    """The same data seen twice: by two relays (memory) or through two databases (SQL)."""
    if request.param == "memory":
        store = MemoryBookingStore()
        one = Side(store, MemoryDirectory(bookings=store), MemoryReminderLedger(store))
        yield one, one
        return
    first = await open_empty(request.param, request)
    url = first.engine.url.render_as_string(hide_password=False)
    second = await open_database(url, practitioner_cache_seconds=0)
    try:
        yield (
            Side(first.store, first.directory, first.reminders),
            Side(second.store, second.directory, second.reminders),
        )
    finally:
        await second.close()
        await first.close()


async def test_two_relays_racing_send_each_reminder_once(sides: tuple[Side, Side]) -> None:
    first, second = sides
    practitioner = sample_practitioner("pr-a")
    await first.directory.upsert(
        evolve(practitioner, offer=evolve(practitioner.offer, reminder_offsets=OFFSETS))
    )
    booked = [await confirmed(first.store, f"b{n:02d}", 9 * 60 + 50 * n) for n in range(BOOKINGS)]
    clock = ManualClock(booked[0].slot.start - timedelta(minutes=1))  # every 24-hour reminder is due
    sender = Recorded()
    relays = [ReminderRelay(side.ledger, side.directory, sender, clock) for side in (first, second)]
    due: set[Reminder] = set()
    for at in (clock.now(), booked[-1].slot.start - timedelta(minutes=1)):  # later: the last 2-hour one
        clock.set(at)
        due |= {reminder for reminder in await relays[1].planned() if reminder.is_due(at)}
        for _ in range(ROUNDS):
            await asyncio.gather(*(relay.run_once() for relay in relays))

    assert len(due) == BOOKINGS + 4  # the 2-hour reminders of the first three and of the last
    counts = Counter(sender.sent)
    assert set(counts) == due and set(counts.values()) == {1}
