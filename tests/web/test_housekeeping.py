"""One housekeeping round (what every serving process runs every HOUSEKEEPING_INTERVAL_SECONDS) over
the fakes and SQLite: sessions that ended are completed, and with CLIENT_DATA_RETENTION_DAYS their
clients' details are anonymised that many days after; unset, they are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, ManualClock
from booking_web.housekeeping import house_round
from tests.web.practitioner_sign_in import container, portal
from tests.web.test_api import book

ELEVEN = "2030-01-14T11:00:00+01:00"
ENDS = datetime(2030, 1, 14, 10, 50, tzinfo=UTC)


@pytest.mark.parametrize("retention_days", [None, 30])
def test_a_round_completes_ended_sessions_and_keeps_details_as_long_as_configured(
    client: TestClient, gateway: FakePaymentGateway, clock: ManualClock, retention_days: int | None
) -> None:
    booked = book(client, ELEVEN, name="Bo Client", email="bo@example.com").json()
    payload, headers = gateway.sign(gateway.pay(booked["checkout_session_id"]))
    assert client.post("/api/webhooks/stripe", content=payload, headers=headers).status_code == 200
    wired = container(client)
    retention = None if retention_days is None else timedelta(days=retention_days)

    def round_at(instant: datetime) -> None:
        clock.set(instant)
        portal(client).call(house_round, wired.service, wired.client_data, retention)

    round_at(ENDS - timedelta(seconds=1))
    assert portal(client).call(wired.service.booking, booked["id"]).status.value == "confirmed"
    round_at(ENDS)
    completed = portal(client).call(wired.service.booking, booked["id"])
    assert completed.status.value == "completed" and completed.client.name == "Bo Client"
    round_at(ENDS + timedelta(days=30))
    after = portal(client).call(wired.service.booking, booked["id"])
    assert after.client.is_erased is (retention_days is not None)
    assert after.status.value == "completed" and after.amount_paid == completed.amount_paid
