"""The service as the fuzzers meet it: the app over the in-memory fakes, and the embedded default
(SQLite file, local test payments, generated secrets) in a temporary folder. Both are driven
through ASGI in-process; a snapshot of what is stored tells whether a request changed anything."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path

import anyio
from attrs import evolve, frozen
from starlette.applications import Starlette
from starlette.testclient import TestClient

from booking_adapters.memory import (
    FakePaymentGateway,
    ManualClock,
    MemoryBookingStore,
    MemoryDirectory,
    SequentialIds,
)
from booking_core import PaymentGateway, Practitioner
from booking_web.app import create_app
from booking_web.bootstrap import Container, assemble, open_container, prepare
from booking_web.demo import DEMO_PRACTITIONERS
from booking_web.metrics import Metrics
from booking_web.outbox_worker import OutboxWorker
from booking_web.settings import Settings
from tests.web.conftest import TEST_CLIENT_URL

HTML = {"Accept": "text/html"}
GENEROUS_RATE_LIMIT = 10_000  # the fuzzers send far more than a person would; one test checks the limit
# ... and hold many slots as one client; tests/web/test_hold_limits_api.py checks the caps
GENEROUS_HOLDS = {"hold_limit_per_client": 10_000, "hold_limit_practitioner_share": 1.0}

CLIENT = {"name": "Ann Example", "email": "ann@example.com", "phone": "+49 30 1234567"}


@frozen
class Stack:
    """A running app and a way to look at what it stored."""

    name: str
    client: TestClient
    snapshot: Callable[[], object]  # equal before and after = nothing was stored or changed
    data_dir: Path
    deliver_outbox: Callable[[], None] = lambda: None  # e-mails of the embedded default, on demand

    def free_starts(self, practitioner_id: str = "jane-doe", weeks: int = 4) -> list[str]:
        """Slot starts offered in the coming `weeks` (the fuzzers use up slots as they go)."""
        today = self.client.app.state.booking.clock.now().date()  # type: ignore[attr-defined]
        starts = []
        for week in range(weeks):
            first = today + timedelta(days=7 * week)
            window = {"start": str(first), "end": str(first + timedelta(days=6)), "timezone": "UTC"}
            response = self.client.get(f"/api/practitioners/{practitioner_id}/availability", params=window)
            assert response.status_code == 200, response.text
            starts += [slot["start"] for slot in response.json()["slots"]]
        return starts

    def book(self, practitioner_id: str = "jane-doe", **details: str) -> dict[str, object]:
        """A new hold on the first free slot, through the API."""
        start = self.free_starts(practitioner_id)[0]
        body = {"practitioner_id": practitioner_id, "start": start} | CLIENT | details
        response = self.client.post("/api/bookings", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, object] = response.json()
        return created


def memory_app(
    tmp: Path,
    *,
    practitioners: tuple[Practitioner, ...] = DEMO_PRACTITIONERS,
    rate_limit: int = GENEROUS_RATE_LIMIT,
    payments: PaymentGateway | None = None,
    public_base_url: str = TEST_CLIENT_URL,
) -> tuple[Starlette, MemoryBookingStore]:
    store = MemoryBookingStore()
    container = assemble(
        Settings(
            data_dir=tmp,
            booking_rate_limit_per_minute=rate_limit,
            public_base_url=public_base_url,
            **GENEROUS_HOLDS,
        ),
        directory=MemoryDirectory.of(practitioners),
        store=store,
        payments=payments or FakePaymentGateway(),
        ids=SequentialIds(),
        clock=ManualClock(),  # Monday 2030-01-07 08:00 UTC
    )
    return create_app(container), store


@contextmanager
def memory_stack(
    tmp: Path,
    *,
    practitioners: tuple[Practitioner, ...] = DEMO_PRACTITIONERS,
    rate_limit: int = GENEROUS_RATE_LIMIT,
    payments: PaymentGateway | None = None,
    public_base_url: str = TEST_CLIENT_URL,
) -> Iterator[Stack]:
    """The app over the in-memory fakes, visited at `public_base_url`."""
    app, store = memory_app(
        tmp,
        practitioners=practitioners,
        rate_limit=rate_limit,
        payments=payments,
        public_base_url=public_base_url,
    )
    with TestClient(app, raise_server_exceptions=False, base_url=public_base_url) as client:
        yield Stack("memory", client, lambda: tuple(store.all_bookings()), tmp)


def embedded_app(tmp: Path, *, rate_limit: int = GENEROUS_RATE_LIMIT) -> tuple[Starlette, list[OutboxWorker]]:
    """What `make run` serves with no environment variables, in `tmp` instead of var/.

    One difference: the outbox worker does not run in the background but when a test asks. Cancelled
    in the middle of a commit at shutdown, it leaves SQLAlchemy an aiosqlite connection to terminate
    whose close never completes, and the event loop (the test client's, or the server's) hangs on
    exit. Reported with the security review; restore the background worker once that is fixed."""
    settings = Settings(
        data_dir=tmp,
        booking_rate_limit_per_minute=rate_limit,
        public_base_url=TEST_CLIENT_URL,
        **GENEROUS_HOLDS,
    )
    anyio.run(prepare, settings)  # create, migrate and seed the SQLite file as `booking serve` does
    workers: list[OutboxWorker] = []

    @asynccontextmanager
    async def build_with_outbox_on_demand(settings: Settings, metrics: Metrics) -> AsyncIterator[Container]:
        async with open_container(settings, metrics) as container:
            if container.outbox_worker is not None:
                workers.append(container.outbox_worker)
                await container.outbox_worker.register_channels()
            yield evolve(container, outbox_worker=None)

    return create_app(settings, build=build_with_outbox_on_demand), workers


@contextmanager
def embedded_stack(tmp: Path, *, rate_limit: int = GENEROUS_RATE_LIMIT) -> Iterator[Stack]:
    app, workers = embedded_app(tmp, rate_limit=rate_limit)
    with TestClient(app, raise_server_exceptions=False) as client:

        def deliver_outbox() -> None:
            for worker in workers:
                client.portal.call(worker.deliver_pending)  # type: ignore[union-attr]

        database = app.state.settings.sqlite_path
        yield Stack("embedded", client, lambda: sqlite_rows(database), tmp, deliver_outbox)


def sqlite_rows(path: Path) -> tuple[object, ...]:
    """Every row of the tables a request could change, read beside the app's own connection."""
    with sqlite3.connect(path) as connection:
        return tuple(
            tuple(connection.execute(f"SELECT * FROM {table} ORDER BY 1"))
            for table in ("bookings", "booking_events", "processed_payment_events")
        )


STACKS = {"memory": memory_stack, "embedded": embedded_stack}


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
