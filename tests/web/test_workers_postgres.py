"""Production shape on PostgreSQL: `booking serve --workers 2`, racing clients get exactly one booking;
a practitioner's time off racing bookings of the same hour ends with the time off or one booking,
never both; one worker's cached availability hears of another process's booking, move and time off."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from booking_adapters import sql
from booking_adapters.system import SecureIds, SystemClock
from booking_adapters.testing.fake_stripe import FakeStripe, running
from booking_core import Booking, ClientDetails, PractitionerAccess, TimeOff, TimeRange
from booking_web.app import create_app
from booking_web.demo import DEMO_PRACTITIONERS
from booking_web.settings import Settings
from tests.serving import booking_serve
from tests.web.conftest import TEST_CLIENT_URL

pytestmark = pytest.mark.postgres

RACERS = 16
METRICS_TOKEN = "workers-metrics-token-" + "m" * 32
METRICS_AUTHORIZATION = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
def seeded_postgres_url(postgres_url: str) -> str:
    asyncio.run(_seed(postgres_url))
    return postgres_url


async def _seed(url: str) -> None:
    database = await sql.open_database(url)
    try:
        for practitioner in DEMO_PRACTITIONERS:
            await database.directory.upsert(practitioner)
    finally:
        await database.close()


@pytest.fixture
def two_workers(seeded_postgres_url: str, tmp_path: Path) -> Iterator[str]:
    fake = FakeStripe()
    with running(fake) as stripe_url:
        env = os.environ | {
            "METRICS_TOKEN": METRICS_TOKEN,
            "DATABASE_URL": seeded_postgres_url,
            "BOOKING_SECRET_KEY": "test-secret-" + "x" * 32,
            "STRIPE_SECRET_KEY": "sk_test_fake_workers",
            "STRIPE_WEBHOOK_SECRET": fake.webhook_secret,
            "STRIPE_API_BASE": stripe_url,
            "BOOKING_DATA_DIR": str(tmp_path),
            "BOOKING_RATE_LIMIT_PER_MINUTE": "1000",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        with booking_serve(["--workers", "2"], env, tmp_path) as base:
            yield base


def test_racing_clients_on_two_workers_get_exactly_one_booking(two_workers: str) -> None:
    slots = httpx.get(f"{two_workers}/api/practitioners/sam-lee/availability").json()["slots"]
    start = slots[0]["start"]

    def attempt(number: int) -> int:
        body = {
            "practitioner_id": "sam-lee",
            "start": start,
            "name": f"Racer {number}",
            "email": f"racer{number}@example.com",
            "phone": "+1 415 555 2671",
        }
        # a fresh connection each, so the kernel spreads them over both workers
        return httpx.post(f"{two_workers}/api/bookings", json=body, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        statuses = list(pool.map(attempt, range(RACERS)))
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == RACERS - 1, statuses
    after = httpx.get(f"{two_workers}/api/practitioners/sam-lee/availability").json()["slots"]
    assert start not in [slot["start"] for slot in after]
    metrics = httpx.get(f"{two_workers}/metrics", headers=METRICS_AUTHORIZATION).text
    # whichever worker answers /metrics, it counts every worker's requests
    assert (
        f'http_requests_total{{method="POST",route="/api/bookings",status="409"}} {RACERS - 1}.0' in metrics
    )


async def _hold_elsewhere(url: str, practitioner_id: str, start: datetime) -> None:
    """Another process's booking: a hold written through a database handle of its own."""
    database = await sql.open_database(url)
    try:
        practitioner = await database.directory.get(practitioner_id)
        assert practitioner is not None
        slot = TimeRange.of(start, practitioner.offer.session_length)
        now = datetime.now(UTC)
        booking, event = Booking.hold(
            booking_id="bk-elsewhere",
            practitioner_id=practitioner_id,
            slot=slot,
            occupied=practitioner.offer.occupied(slot),
            client=ClientDetails("Ann Example", "ann@example.com", "+49301234567"),
            client_timezone="Europe/Berlin",
            price=practitioner.offer.price,
            hold_expires_at=now + timedelta(minutes=30),
            cancel_token="token-elsewhere",
            now=now,
        )
        await database.store.add_if_free(booking, event)
    finally:
        await database.close()


async def _time_off_elsewhere(url: str, practitioner_id: str, start: datetime) -> None:
    """Another process's time off, written through a database handle of its own."""
    database = await sql.open_database(url)
    try:
        now = datetime.now(UTC)
        block = TimeOff("to-elsewhere", practitioner_id, TimeRange.of(start, timedelta(hours=1)), now)
        await database.store.add_time_off(block, now)
    finally:
        await database.close()


@contextmanager
def _listening_worker(url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Callable[[], list[str]]]]:
    """This worker, once its change feed listens, and how to ask it for the slot starts of
    jane-doe's week a week from today (answers it caches)."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=url,
        booking_secret_key="k" * 40,
        public_base_url=TEST_CLIENT_URL,
        metrics_token=METRICS_TOKEN,
    )
    first = date.today() + timedelta(days=7)
    week = {"start": first.isoformat(), "end": (first + timedelta(days=6)).isoformat()}
    with TestClient(create_app(settings)) as client:
        feed = client.app.state.container.change_feed
        _eventually(lambda: feed.live)

        def starts() -> list[str]:
            answer = client.get("/api/practitioners/jane-doe/availability", params=week)
            assert answer.status_code == 200
            return [slot["start"] for slot in answer.json()["slots"]]

        yield client, starts


@pytest.mark.parametrize("write_elsewhere", [_hold_elsewhere, _time_off_elsewhere])
def test_a_change_made_by_another_process_voids_this_workers_cached_availability(
    seeded_postgres_url: str,
    tmp_path: Path,
    write_elsewhere: Callable[[str, str, datetime], Awaitable[None]],
) -> None:
    """A booking or a time off written by another process takes the slot off this worker's cached
    answers at once."""
    with _listening_worker(seeded_postgres_url, tmp_path) as (client, starts):
        before = starts()
        assert starts() == before  # now from this worker's cache
        assert (
            'booking_availability_cache_total{result="hit"} 1.0'
            in client.get("/metrics", headers=METRICS_AUTHORIZATION).text
        )
        asyncio.run(write_elsewhere(seeded_postgres_url, "jane-doe", datetime.fromisoformat(before[0])))
        _eventually(lambda: before[0] not in starts())  # heard through PostgreSQL, not by expiry
        assert starts() == before[1:]


async def _move_elsewhere(url: str, booking_id: str, start: datetime) -> None:
    """Another process moves a booking (as the practitioner's side would), through a database
    handle of its own."""
    database = await sql.open_database(url)
    try:
        booking = await database.store.get(booking_id)
        assert booking is not None
        practitioner = await database.directory.get(booking.practitioner_id)
        assert practitioner is not None
        slot = TimeRange.of(start, booking.slot.duration)
        moved, event = booking.reschedule(
            slot, offer=practitioner.offer, at=datetime.now(UTC), reason="elsewhere", by_practitioner=True
        )
        await database.store.save(booking, moved, event)
    finally:
        await database.close()


def test_a_move_made_by_another_process_frees_the_old_day_and_takes_the_new_one(
    seeded_postgres_url: str, tmp_path: Path
) -> None:
    """A booking moved by another process to another day: this worker's cached answers offer its
    old slot again and no longer the new one, at once (one change voids both days)."""
    with _listening_worker(seeded_postgres_url, tmp_path) as (_client, starts):
        before = starts()
        old, new = before[0], before[-1]
        assert old[:10] != new[:10]  # two days of the week
        asyncio.run(_hold_elsewhere(seeded_postgres_url, "jane-doe", datetime.fromisoformat(old)))
        _eventually(lambda: old not in starts())
        assert starts() == starts()  # cached again
        asyncio.run(_move_elsewhere(seeded_postgres_url, "bk-elsewhere", datetime.fromisoformat(new)))
        _eventually(lambda: new not in starts())  # heard through PostgreSQL, not by expiry
        assert starts() == before[:-1]


def _eventually(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll `condition` (another thread or process makes it true) until it holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.02)


async def _api_token(url: str, practitioner_id: str) -> str:
    database = await sql.open_database(url)
    try:
        access = PractitionerAccess(database.directory, database.credentials, SystemClock(), SecureIds(b"t"))
        return await access.issue_api_token(practitioner_id)
    finally:
        await database.close()


TIME_OFF_ROUNDS = 5
TIME_OFF_RACERS = 20  # per round: the time off and 19 bookings


def _race_time_off(
    base: str, token: str, start: str, round_: int
) -> tuple[httpx.Response, list[httpx.Response]]:
    """The time off of the hour from `start` and 19 bookings of the slot at `start`, all at once
    (a fresh connection each, spread over the workers); the time off's answer and the bookings'."""
    hour_end = (datetime.fromisoformat(start) + timedelta(hours=1)).isoformat()

    def attempt(number: int) -> httpx.Response:
        if number == TIME_OFF_RACERS // 2:  # the time off starts among the bookings
            body = {"start": start, "end": hour_end}
            headers = {"Authorization": f"Bearer {token}"}
            return httpx.post(f"{base}/api/me/time-off", json=body, headers=headers, timeout=30)
        body = {
            "practitioner_id": "jane-doe",
            "start": start,
            "name": f"Racer {number}",
            "email": f"racer{round_}-{number}@example.com",
            "phone": f"+49 30 1234{round_}{number:02d}",
        }
        return httpx.post(f"{base}/api/bookings", json=body, timeout=30)

    with ThreadPoolExecutor(max_workers=TIME_OFF_RACERS) as pool:
        answers = list(pool.map(attempt, range(TIME_OFF_RACERS)))
    return answers.pop(TIME_OFF_RACERS // 2), answers


def test_time_off_racing_bookings_of_its_hour_ends_with_one_of_them(
    two_workers: str, seeded_postgres_url: str
) -> None:
    """Each round a day's first slot: 19 clients book it while the practitioner blocks its hour, all
    at once over both workers. Either the time off stands and no booking, or one booking and the
    time off is refused naming it."""
    token = asyncio.run(_api_token(seeded_postgres_url, "jane-doe"))
    availability = f"{two_workers}/api/practitioners/jane-doe/availability"
    first = date.today() + timedelta(days=7)
    weeks = {"start": first.isoformat(), "end": (first + timedelta(days=13)).isoformat()}
    first_slots: dict[str, str] = {}  # of each day with slots
    for slot in httpx.get(availability, params=weeks).json()["slots"]:
        first_slots.setdefault(slot["start"][:10], slot["start"])
    for round_, start in enumerate(list(first_slots.values())[:TIME_OFF_ROUNDS]):
        time_off, bookings = _race_time_off(two_workers, token, start, round_)
        assert {answer.status_code for answer in bookings} <= {201, 409}, [a.text for a in bookings]
        held = [answer.json() for answer in bookings if answer.status_code == 201]
        if time_off.status_code == 201:
            assert held == []
        else:
            assert time_off.status_code == 409, time_off.text
            assert len(held) == 1
            assert time_off.json()["error"]["booking_ids"] == [held[0]["id"]]
        day = {"start": start[:10], "end": start[:10]}
        assert start not in [slot["start"] for slot in httpx.get(availability, params=day).json()["slots"]]
        for booking in held:  # the racers share one address: free its hold for the next round
            cancel = f"{two_workers}/api/bookings/{booking['id']}/cancel"
            cancelled = httpx.post(cancel, json={"cancel_token": booking["cancel_token"]})
            assert cancelled.status_code == 200, cancelled.text
