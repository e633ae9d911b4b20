"""What only the SQL stores keep beside bookings and that an erasure must reach as well: a failed
reminder's error (reminder_deliveries, issue 17 item 1) may quote the client's address."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from booking_adapters.sql.tables import reminder_deliveries
from booking_core import ERASED
from booking_core.testing.contracts import ANN, NOW, hold
from tests.contract.conftest import open_empty

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_anonymising_scrubs_failed_reminders_errors(kind: str, request: pytest.FixtureRequest) -> None:
    database = await open_empty(kind, request)
    try:
        booking, event = hold("b1", 9 * 60)
        await database.store.add_if_free(booking, event)
        other, other_event = hold("b2", 11 * 60)
        await database.store.add_if_free(other, other_event)
        async with database.engine.begin() as connection:
            for booking_id, start in (("b1", booking.slot.start), ("b2", other.slot.start)):
                await connection.execute(
                    reminder_deliveries.insert().values(
                        booking_id=booking_id,
                        slot_start=start,
                        offset_seconds=86400,
                        channel="email:client",
                        attempts=1,
                        last_error=f"550 <{ANN.email.upper()}>: no such user",
                    )
                )
        await database.client_data.anonymise(["b1"], ERASED, [ANN.name, ANN.email, ANN.phone], NOW)
        async with database.engine.connect() as connection:
            query = select(reminder_deliveries.c.booking_id, reminder_deliveries.c.last_error)
            errors = dict((await connection.execute(query.order_by(reminder_deliveries.c.booking_id))).all())
        assert errors == {
            "b1": "550 <[erased]>: no such user",
            "b2": f"550 <{ANN.email.upper()}>: no such user",
        }
    finally:
        await database.close()
