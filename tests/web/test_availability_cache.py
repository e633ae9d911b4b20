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
from booking_web.availability_cache import SPREAD, UNHEARD_SECONDS, AvailabilityCache
from booking_web.settings import Settings
from tests.web.conftest import TEST_CLIENT_URL, memory_builder
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


def test_a_slot_leaves_the_cached_answer_when_it_enters_minimum_notice(
    client: TestClient, clock: ManualClock
) -> None:
    # 12 h of minimum notice: Monday 09:00 in Berlin (08:00 UTC) is bookable until Sunday 20:00 UTC.
    clock.set(datetime(2030, 1, 13, 19, 59, 59, tzinfo=UTC))
    before = starts(client)
    assert before[0] == "2030-01-14T09:00:00+01:00"
    clock.advance(timedelta(seconds=0.5))
    assert starts(client) == before
    clock.advance(timedelta(seconds=0.501))  # just past 20:00, well within the cache's seconds
    assert starts(client) == before[1:]
    assert cache_counts(client) == {"miss": 2.0, "hit": 1.0}


def test_answers_run_out_after_the_caches_seconds(client: TestClient, clock: ManualClock) -> None:
    """Without a change feed (memory, SQLite) at most UNHEARD_SECONDS, spread down to half of it."""
    starts(client)
    clock.advance(timedelta(seconds=UNHEARD_SECONDS * (1 - SPREAD) - 0.1))
    starts(client)
    clock.advance(timedelta(seconds=UNHEARD_SECONDS))
    starts(client)
    assert cache_counts(client) == {"miss": 2.0, "hit": 1.0}


@pytest.fixture
def uncached_client(tmp_path: Path, clock: ManualClock) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, availability_cache_seconds=0, public_base_url=TEST_CLIENT_URL)
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
    cache.put("key", "jane", ticket, b"stale", None)
    assert cache.get("key", "jane") is None
    cache.put("key", "jane", cache.ticket("jane"), b"fresh", None)
    assert cache.get("key", "jane") == b"fresh"


def test_a_change_voids_only_that_practitioners_answers() -> None:
    cache = AvailabilityCache(5, clock=FakeTime())
    cache.put("jane's", "jane", cache.ticket("jane"), b"j", None)
    cache.put("sam's", "sam", cache.ticket("sam"), b"s", None)
    cache.changed("jane")
    assert cache.get("jane's", "jane") is None
    assert cache.get("sam's", "sam") == b"s"


def test_a_gap_in_the_change_feed_voids_everything_and_nothing_is_cached_while_untrusted() -> None:
    live = True
    cache = AvailabilityCache(5, clock=FakeTime(), trusted=lambda: live)
    ticket = cache.ticket("sam")
    cache.put("sam's", "sam", ticket, b"s", None)
    cache.clear()
    assert cache.get("sam's", "sam") is None
    cache.put("sam's", "sam", ticket, b"s", None)  # computed before the gap
    assert cache.get("sam's", "sam") is None
    live = False
    cache.put("sam's", "sam", cache.ticket("sam"), b"s", None)
    assert cache.get("sam's", "sam") is None
    live = True
    assert cache.get("sam's", "sam") is None


def test_the_least_recently_used_answers_go_beyond_the_limit() -> None:
    cache = AvailabilityCache(5, max_entries=2, clock=FakeTime())
    for key in ("a", "b", "c"):
        cache.put(key, "jane", cache.ticket("jane"), key.encode(), None)
    assert [cache.get(key, "jane") for key in ("a", "b", "c")] == [None, b"b", b"c"]


def test_an_answer_already_changed_by_time_is_not_kept() -> None:
    time = FakeTime()
    cache = AvailabilityCache(5, clock=time)
    cache.put("late", "jane", cache.ticket("jane"), b"x", until=0.0)
    cache.put("soon", "jane", cache.ticket("jane"), b"y", until=1.0)
    assert cache.get("late", "jane") is None
    assert cache.get("soon", "jane") == b"y"
    time.now = 1.5
    assert cache.get("soon", "jane") is None


def test_answers_for_today_onwards_are_computed_every_time(client: TestClient) -> None:
    """Without a start the days follow the calendar: such answers are not kept."""
    assert client.get(AVAILABILITY).json() == client.get(AVAILABILITY).json()
    assert cache_counts(client) == {"miss": 2.0, "hit": 0.0}
