"""Cal.com in the running service, against the fake Cal.com server: availability says where it came
from (calcom, then calcom_stale / schedule_fallback once the fake is down), a confirmed booking is
written back by the outbox worker, and a booking request that cannot be re-checked is a 503."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from attrs import evolve

from booking_adapters.testing.fake_calcom import FAKE_API_KEY, FakeCalcom, FakeCalcomServer
from booking_web.settings import Settings
from tests.contract.availability_fixtures import fake_calcom, practitioner
from tests.web.embedded import (
    add_practitioner,
    availability,
    book,
    book_and_pay,
    confirmed_while_no_worker_runs,
    environment,
    eventually,
    next_weekday,
    serving,
    started,
)

TUESDAY = 1


@pytest.fixture
def fake() -> FakeCalcom:
    return fake_calcom()


@pytest.fixture
def server(fake: FakeCalcom, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCalcomServer]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    running = FakeCalcomServer(fake)
    running.up()
    yield running
    running.down()


def connected(data_dir: Path, server: FakeCalcomServer) -> Settings:
    """The embedded default with practitioner "ada" taking her slots from the fake Cal.com."""
    env = environment(
        data_dir,
        CALCOM_API_BASE=server.url,
        CALCOM_API_KEY=FAKE_API_KEY,
        CALCOM_CACHE_TTL_SECONDS="0.01",  # every listing asks the fake again (or degrades)
        CALCOM_CONNECT_TIMEOUT_SECONDS="0.5",
    )
    anyio.run(add_practitioner, started(env), practitioner())
    settings = started(env)  # checks the key against the practitioners now in the database
    # Retries back off from 10 ms instead of 0.5 s: the outage below costs milliseconds, not seconds.
    return evolve(settings, calcom=evolve(settings.calcom, retry_first_delay_seconds=0.01))


def _ours(fake: FakeCalcom, booking_id: str) -> bool:
    return any(b.get("metadata", {}).get("bookingId") == booking_id for b in fake.live_bookings())


def test_availability_source_write_back_and_outage(
    tmp_path: Path, fake: FakeCalcom, server: FakeCalcomServer
) -> None:
    this_week, later = next_weekday(TUESDAY, 1), next_weekday(TUESDAY, 2)
    with serving(connected(tmp_path / "var", server)) as client:
        assert availability(client, "ada", this_week)["source"] == "calcom"
        assert availability(client, "jane-doe", this_week)["source"] == "schedule"

        booking_id = book_and_pay(client, "ada", this_week)
        assert eventually(lambda: _ours(fake, booking_id))  # the worker wrote it back

        server.down()
        assert eventually(lambda: availability(client, "ada", this_week)["source"] == "calcom_stale")
        fallback = availability(client, "ada", later)
        assert fallback["source"] == "schedule_fallback"
        assert fallback["slots"]  # the weekly schedule still offers times

        refused = book(client, "ada", fallback["slots"][0]["start"])
        metrics = client.get("/metrics").text

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "30"
    error = refused.json()["error"]
    assert error["code"] == "provider_unavailable"
    assert (
        error["message"] == "The calendar cannot confirm this time right now. Please try again in a moment."
    )
    assert 'provider_errors_total{provider="calendar"}' in metrics
    assert "calcom_availability_degraded_total" in metrics  # the adapter's own counters are exposed


def test_a_write_back_waiting_in_the_outbox_goes_out_at_the_next_start(
    tmp_path: Path, fake: FakeCalcom, server: FakeCalcomServer
) -> None:
    settings = connected(tmp_path / "var", server)
    booking_id = anyio.run(confirmed_while_no_worker_runs, settings, "ada", next_weekday(TUESDAY))
    assert not _ours(fake, booking_id)
    with serving(settings):
        assert eventually(lambda: _ours(fake, booking_id))
