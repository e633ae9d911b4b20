"""Production shape: `booking serve --workers 2` on PostgreSQL; racing clients get exactly one booking."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from booking_adapters import sql
from booking_adapters.sql.scratch import check_reachable, scratch_database
from booking_adapters.testing.fake_stripe import FakeStripe, running
from booking_web.demo import DEMO_PRACTITIONERS
from tests.serving import booking_serve

pytestmark = pytest.mark.postgres

ADMIN_URL = os.environ.get("BOOKING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
RACERS = 16


@pytest.fixture
def postgres_url() -> Iterator[str]:
    try:
        check_reachable(ADMIN_URL)
    except Exception as error:
        reason = f"PostgreSQL not reachable at BOOKING_TEST_POSTGRES_URL: {str(error).strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with scratch_database(ADMIN_URL, prefix="booking_web") as url:
        asyncio.run(_seed(url))
        yield url


async def _seed(url: str) -> None:
    database = await sql.open_database(url)
    try:
        for practitioner in DEMO_PRACTITIONERS:
            await database.directory.upsert(practitioner)
    finally:
        await database.close()


@pytest.fixture
def two_workers(postgres_url: str, tmp_path: Path) -> Iterator[str]:
    fake = FakeStripe()
    with running(fake) as stripe_url:
        env = os.environ | {
            "DATABASE_URL": postgres_url,
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
    metrics = httpx.get(f"{two_workers}/metrics").text
    # whichever worker answers /metrics, it counts every worker's requests
    assert (
        f'http_requests_total{{method="POST",route="/api/bookings",status="409"}} {RACERS - 1}.0' in metrics
    )
