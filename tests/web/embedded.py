"""The service as `booking serve` runs it (check_startup, open_container, the lifespan's outbox worker)
on an embedded SQLite file in a temporary folder, driven through HTTP with local test payments."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
from starlette.testclient import TestClient

from booking_adapters import sql
from booking_adapters.stripe import LocalTestGateway
from booking_core import BookingRequest, Practitioner, TimeRange
from booking_web.app import create_app
from booking_web.bootstrap import check_startup, open_container
from booking_web.local_days import days_window
from booking_web.settings import Settings
from booking_web.webhooks import receive_payment_webhook

CLIENT_EMAIL = "ann.client@example.com"
POLLS = 500  # x 20 ms: the worker is nudged right after the change, so this is a generous bound


def environment(data_dir: Path, **variables: str) -> dict[str, str]:
    return {
        "BOOKING_DATA_DIR": str(data_dir),
        "BOOKING_RATE_LIMIT_PER_MINUTE": "1000",
        "PUBLIC_BASE_URL": "http://testserver",  # what TestClient sends as Host
        **variables,
    }


def started(env: Mapping[str, str]) -> Settings:
    """What `booking serve` does before it serves: check, migrate, seed, register outbox channels."""
    return anyio.run(partial(check_startup, env, serving=True))


@contextmanager
def serving(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def next_weekday(weekday: int, weeks_ahead: int = 1) -> date:
    """A date `weeks_ahead` weeks from now on `weekday` (0 = Monday): beyond any minimum notice."""
    today = date.today()
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks_ahead)


def availability(client: TestClient, practitioner_id: str, day: date) -> dict[str, Any]:
    response = client.get(
        f"/api/practitioners/{practitioner_id}/availability",
        params={"start": day.isoformat(), "end": day.isoformat()},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def book(client: TestClient, practitioner_id: str, start: str) -> Any:
    body = {
        "practitioner_id": practitioner_id,
        "start": start,
        "name": "Ann Client",
        "email": CLIENT_EMAIL,
        "phone": "+49 30 1234567",
        "timezone": "Europe/Paris",
    }
    return client.post("/api/bookings", json=body)


def book_and_pay(client: TestClient, practitioner_id: str, day: date) -> str:
    """Hold the first free slot of `day` and pay on the local test-payment page; the booking id."""
    start = availability(client, practitioner_id, day)["slots"][0]["start"]
    held = book(client, practitioner_id, start)
    assert held.status_code == 201, held.text
    paid = client.post(urlsplit(held.json()["checkout_url"]).path + "/pay", follow_redirects=False)
    assert paid.status_code == 303, paid.text
    booking_id: str = held.json()["id"]
    assert client.get(f"/api/bookings/{booking_id}").json()["status"] == "confirmed"
    return booking_id


async def add_practitioner(settings: Settings, practitioner: Practitioner) -> None:
    database = await sql.open_database(settings.database_location)
    try:
        await database.directory.upsert(practitioner)
    finally:
        await database.close()


async def confirmed_while_no_worker_runs(settings: Settings, practitioner_id: str, day: date) -> str:
    """Book and pay through the service of a container whose outbox worker is not running (as if
    the process died right after the commit); the booking id."""
    async with open_container(settings) as container:
        service = container.service
        practitioner = await service.practitioner(practitioner_id)
        window = TimeRange(*days_window(day, day, practitioner.timezone))
        start = (await service.list_availability(practitioner_id, window)).slots[0].start
        request = BookingRequest(
            practitioner_id, start, "Ann Client", CLIENT_EMAIL, "+49 30 1234567", "Europe/Paris"
        )
        hold = await service.request_booking(request)
        assert isinstance(service.payments, LocalTestGateway) and hold.booking.checkout_session_id
        webhook = service.payments.pay(hold.booking.checkout_session_id)
        await receive_payment_webhook(service, webhook.payload, webhook.headers)
        return hold.booking.id


def eventually(condition: Callable[[], bool]) -> bool:
    """Whether `condition` holds within a bounded number of polls (the relay runs in the server's
    thread; nothing here depends on how long it takes, only on it happening at all)."""
    for _ in range(POLLS):
        if condition():
            return True
        time.sleep(0.02)
    return condition()
