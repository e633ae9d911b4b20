"""Availability answers from the per-process cache: served again until a booking changes, the
service's clock moves past the cache's seconds, or the change feed may have missed something."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, ManualClock
from booking_web.app import create_app
from booking_web.availability_cache import AvailabilityCache
from booking_web.settings import Settings
from tests.web.conftest import memory_builder
from tests.web.test_api import MONDAY, book

AVAILABILITY = "/api/practitioners/jane-doe/availability"
MONDAY_ONLY = {"start": MONDAY, "end": MONDAY}


def cache_counts(client: TestClient) -> dict[str, float]:
    text = client.get("/metrics").text
    found = re.findall(r'booking_availability_cache_total\{result="(\w+)"\} ([0-9.e+]+)', text)
    return {result: float(count) for result, count in found}


def starts(client: TestClient) -> list[str]:
    response = client.get(AVAILABILITY, params=MONDAY_ONLY)
    assert response.status_code == 200
    return [slot["start"] for slot in response.json()["slots"]]


def test_a_repeated_request_gets_the_same_body_from_the_cache(client: TestClient) -> None:
    first = client.get(AVAILABILITY, params=MONDAY_ONLY)
    again = client.get(AVAILABILITY, params=MONDAY_ONLY)
    assert again.content == first.content
    assert again.headers["content-type"] == "application/json"
    assert cache_counts(client) == {"miss": 1.0, "hit": 1.0}


def test_booking_and_cancelling_show_at_once(client: TestClient) -> None:
    before = starts(client)
    created = book(client, before[0]).json()
    assert before[0] not in starts(client)
    cancel = client.post(
        f"/api/bookings/{created['id']}/cancel", json={"cancel_token": created["cancel_token"]}
    )
    assert cancel.status_code == 200
    assert starts(client) == before
    assert cache_counts(client) == {"miss": 3.0, "hit": 0.0}  # each answer after a change was computed afresh


def test_answers_expire_on_the_services_clock(client: TestClient, clock: ManualClock) -> None:
    before = starts(client)
    assert before[0] == "2030-01-14T09:00:00+01:00"
    # 12 h of minimum notice: Monday 09:00 in Berlin (08:00 UTC) is bookable until Sunday 20:00 UTC.
    clock.set(datetime(2030, 1, 13, 19, 59, 59, tzinfo=UTC))
    assert starts(client) == before  # computed now
    clock.advance(timedelta(seconds=1.5))  # past the notice, within the cache's 2.5-5 seconds
    assert starts(client) == before
    clock.advance(timedelta(seconds=5))
    assert starts(client) == before[1:]
    assert cache_counts(client) == {"miss": 3.0, "hit": 1.0}


@pytest.fixture
def uncached_client(tmp_path: Path, clock: ManualClock) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, availability_cache_seconds=0)
    app = create_app(settings, build=memory_builder(clock, FakePaymentGateway()))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_cache_time_of_zero_computes_every_answer(uncached_client: TestClient) -> None:
    assert starts(uncached_client) == starts(uncached_client)
    assert cache_counts(uncached_client) == {"miss": 2.0, "hit": 0.0}


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_computed_while_the_practitioner_changed_is_not_kept() -> None:
    cache = AvailabilityCache(5, clock=FakeTime())
    ticket = cache.ticket("jane")
    cache.changed("jane")  # a booking committed while the answer was being computed
    cache.put("key", "jane", ticket, b"stale")
    assert cache.get("key", "jane") is None
    cache.put("key", "jane", cache.ticket("jane"), b"fresh")
    assert cache.get("key", "jane") == b"fresh"


def test_a_change_voids_only_that_practitioners_answers() -> None:
    cache = AvailabilityCache(5, clock=FakeTime())
    cache.put("jane's", "jane", cache.ticket("jane"), b"j")
    cache.put("sam's", "sam", cache.ticket("sam"), b"s")
    cache.changed("jane")
    assert cache.get("jane's", "jane") is None
    assert cache.get("sam's", "sam") == b"s"


def test_a_gap_in_the_change_feed_voids_everything_and_nothing_is_cached_while_untrusted() -> None:
    live = True
    cache = AvailabilityCache(5, clock=FakeTime(), trusted=lambda: live)
    ticket = cache.ticket("sam")
    cache.put("sam's", "sam", ticket, b"s")
    cache.clear()
    assert cache.get("sam's", "sam") is None
    cache.put("sam's", "sam", ticket, b"s")  # computed before the gap
    assert cache.get("sam's", "sam") is None
    live = False
    cache.put("sam's", "sam", cache.ticket("sam"), b"s")
    assert cache.get("sam's", "sam") is None
    live = True
    assert cache.get("sam's", "sam") is None


def test_the_least_recently_used_answers_go_beyond_the_limit() -> None:
    cache = AvailabilityCache(5, max_entries=2, clock=FakeTime())
    for key in ("a", "b", "c"):
        cache.put(key, "jane", cache.ticket("jane"), key.encode())
    assert [cache.get(key, "jane") for key in ("a", "b", "c")] == [None, b"b", b"c"]
