"""The app over fakes and over SQLite, built through the same create_app as production; a scratch
PostgreSQL database for the tests of the production shape."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from booking_adapters import sql
from booking_adapters.memory import (
    FakePaymentGateway,
    ManualClock,
    MemoryBookingStore,
    MemoryDirectory,
    SequentialIds,
)
from booking_adapters.sql.scratch import check_reachable, scratch_database
from booking_web.app import Builder, create_app
from booking_web.bootstrap import Container, assemble
from booking_web.demo import DEMO_PRACTITIONERS
from booking_web.metrics import Metrics
from booking_web.settings import Settings
from tests.web.practitioner_sign_in import sign_in, with_emails

POSTGRES_ADMIN_URL = os.environ.get("BOOKING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A migrated, empty PostgreSQL database of this test's own, dropped afterwards. Unreachable:
    skipped locally with the reason, a failure under CI=true."""
    try:
        check_reachable(POSTGRES_ADMIN_URL)
    except Exception as error:
        reason = f"PostgreSQL not reachable at BOOKING_TEST_POSTGRES_URL: {str(error).strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with scratch_database(POSTGRES_ADMIN_URL, prefix="booking_web") as url:
        yield url


# What TestClient sends as Host: the test apps are published there (the trusted-host check).
TEST_CLIENT_URL = "http://testserver"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()  # Monday 2030-01-07 08:00 UTC


@pytest.fixture
def gateway() -> FakePaymentGateway:
    return FakePaymentGateway()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, booking_rate_limit_per_minute=1000, public_base_url=TEST_CLIENT_URL)


def memory_builder(clock: ManualClock, gateway: FakePaymentGateway) -> Builder:
    @asynccontextmanager
    async def build(settings: Settings, metrics: Metrics) -> AsyncIterator[Container]:
        store = MemoryBookingStore()
        yield assemble(
            settings,
            directory=MemoryDirectory.of(DEMO_PRACTITIONERS, store),
            store=store,
            payments=gateway,
            ids=SequentialIds(),
            clock=clock,
            metrics=metrics,
        )

    return build


def sqlite_builder(clock: ManualClock, gateway: FakePaymentGateway, path: Path) -> Builder:
    url = f"sqlite:///{path}"
    sql.upgrade(url)

    @asynccontextmanager
    async def build(settings: Settings, metrics: Metrics) -> AsyncIterator[Container]:
        database = await sql.open_database(url)
        try:
            for practitioner in DEMO_PRACTITIONERS:
                await database.directory.upsert(practitioner)
            yield assemble(
                settings,
                directory=database.directory,
                store=database.store,
                payments=gateway,
                ids=SequentialIds(),
                clock=clock,
                metrics=metrics,
                database=database,
                feed_keys=database.calendar_feeds,
                client_data=database.client_data,
            )
        finally:
            await database.close()

    return build


@pytest.fixture(params=["memory", "sqlite"])
def builder(
    request: pytest.FixtureRequest, clock: ManualClock, gateway: FakePaymentGateway, tmp_path: Path
) -> Builder:
    if request.param == "memory":
        return memory_builder(clock, gateway)
    return sqlite_builder(clock, gateway, tmp_path / "api.db")


@pytest.fixture
def client(settings: Settings, builder: Builder) -> Iterator[TestClient]:
    app = create_app(settings, build=builder)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def signed_in(client: TestClient, settings: Settings) -> TestClient:
    """`client` signed in as the first demo practitioner (through the e-mailed link)."""
    with_emails(client)
    sign_in(client, settings.mailbox_dir)
    return client


@pytest.fixture
def memory_client(
    settings: Settings, clock: ManualClock, gateway: FakePaymentGateway
) -> Iterator[TestClient]:
    """For tests of the web layer alone, where the store does not matter."""
    with TestClient(
        create_app(settings, build=memory_builder(clock, gateway)), raise_server_exceptions=False
    ) as c:
        yield c
