"""The ReminderLedger contract and its property over memory, SQLite and PostgreSQL, each beside its
store."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from booking_adapters.memory import MemoryBookingStore, MemoryReminderLedger
from booking_core import BookingStore, ReminderLedger
from booking_core.testing.reminder_contracts import ReminderLedgerContract
from booking_core.testing.reminder_properties import ReminderLedgerPropertyContract
from tests.contract.conftest import ADAPTERS, open_empty


@pytest.fixture(params=ADAPTERS)
async def store_and_ledger(
    request: pytest.FixtureRequest, anyio_backend: str
) -> AsyncIterator[tuple[BookingStore, ReminderLedger]]:
    if request.param == "memory":
        store = MemoryBookingStore()
        yield store, MemoryReminderLedger(store)
        return
    database = await open_empty(request.param, request)
    try:
        yield database.store, database.reminders
    finally:
        await database.close()


@pytest.fixture
def store(store_and_ledger: tuple[BookingStore, ReminderLedger]) -> BookingStore:
    return store_and_ledger[0]


@pytest.fixture
def ledger(store_and_ledger: tuple[BookingStore, ReminderLedger]) -> ReminderLedger:
    return store_and_ledger[1]


class TestReminderLedger(ReminderLedgerContract, ReminderLedgerPropertyContract):
    pass
