"""Availability answers from the per-process cache: served again until a booking changes, the
service's clock moves past the cache's seconds, or the change feed may have missed something."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, ManualClock
from booking_web.app import create_app
from booking_web.availability_answers import AvailabilityAnswer
from booking_web.availability_cache import MAX_KEPT_QUERY, SPREAD, UNHEARD_SECONDS, AvailabilityCache
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


class ScriptedAnswers:
    """The AvailabilityAnswers behind the cache: answers `bodies` in turn (the query itself once
    they run out), reusable, changed by time alone at `until` (seconds on the cache's clock)."""

    def __init__(self, *bodies: bytes, until: float | None = None) -> None:
        self.bodies = list(bodies)
        self.until = until
        self.while_computing: Callable[[], None] = lambda: None  # e.g. a booking committing
        self.computed = 0

    async def answer(self, practitioner_id: str, query: bytes) -> AvailabilityAnswer:
        self.computed += 1
        self.while_computing()
        until = None if self.until is None else datetime.fromtimestamp(self.until, UTC)
        return AvailabilityAnswer(self.bodies.pop(0) if self.bodies else query, True, until)


async def kept(
    cache: AvailabilityCache, answers: ScriptedAnswers, practitioner_id: str, query: bytes
) -> bytes | None:
    """The body the cache answers `query` with if it had it kept (None: it was computed)."""
    computed = answers.computed
    body = (await cache.answer(practitioner_id, query)).body
    return body if answers.computed == computed else None


@pytest.mark.anyio
async def test_an_answer_computed_while_the_practitioner_changed_is_not_kept() -> None:
    answers = ScriptedAnswers(b"stale", b"fresh")
    cache = AvailabilityCache(answers, 5, clock=FakeTime())
    answers.while_computing = lambda: cache.changed("jane")  # a booking committed meanwhile
    assert (await cache.answer("jane", b"key")).body == b"stale"
    answers.while_computing = lambda: None
    assert await kept(cache, answers, "jane", b"key") is None
    assert await kept(cache, answers, "jane", b"key") == b"fresh"


@pytest.mark.anyio
async def test_a_change_voids_only_that_practitioners_answers() -> None:
    answers = ScriptedAnswers()
    cache = AvailabilityCache(answers, 5, clock=FakeTime())
    await cache.answer("jane", b"jane's")
    await cache.answer("sam", b"sam's")
    cache.changed("jane")
    assert await kept(cache, answers, "jane", b"jane's") is None
    assert await kept(cache, answers, "sam", b"sam's") == b"sam's"


@pytest.mark.anyio
async def test_a_gap_in_the_change_feed_voids_everything_and_nothing_is_cached_while_untrusted() -> None:
    live = True
    answers = ScriptedAnswers()
    cache = AvailabilityCache(answers, 5, clock=FakeTime(), trusted=lambda: live)
    await cache.answer("sam", b"sam's")
    cache.clear()
    answers.while_computing = cache.clear  # each answer below is overtaken by a gap
    assert await kept(cache, answers, "sam", b"sam's") is None
    assert await kept(cache, answers, "sam", b"sam's") is None  # the one computed before the gap
    answers.while_computing = lambda: None
    live = False
    assert await kept(cache, answers, "sam", b"sam's") is None
    assert await kept(cache, answers, "sam", b"sam's") is None
    live = True
    assert await kept(cache, answers, "sam", b"sam's") is None  # nothing kept while untrusted


@pytest.mark.anyio
async def test_the_least_recently_used_answers_go_beyond_the_limit() -> None:
    answers = ScriptedAnswers()
    cache = AvailabilityCache(answers, 5, max_entries=2, clock=FakeTime())
    for key in (b"a", b"b", b"c"):
        await cache.answer("jane", key)
    assert [await kept(cache, answers, "jane", key) for key in (b"c", b"b", b"a")] == [b"c", b"b", None]


@pytest.mark.anyio
async def test_an_answer_already_changed_by_time_is_not_kept() -> None:
    time = FakeTime()
    late, soon = ScriptedAnswers(until=0.0), ScriptedAnswers(until=1.0)
    late_cache, soon_cache = AvailabilityCache(late, 5, clock=time), AvailabilityCache(soon, 5, clock=time)
    await late_cache.answer("jane", b"late")
    await soon_cache.answer("jane", b"soon")
    assert await kept(late_cache, late, "jane", b"late") is None
    assert await kept(soon_cache, soon, "jane", b"soon") == b"soon"
    time.now = 1.5
    assert await kept(soon_cache, soon, "jane", b"soon") is None


@pytest.mark.anyio
async def test_long_queries_are_answered_not_kept() -> None:
    answers = ScriptedAnswers()
    cache = AvailabilityCache(answers, 5, clock=FakeTime())
    long = b"start=2030-01-14&x=" + b"y" * MAX_KEPT_QUERY
    await cache.answer("jane", long)
    assert await kept(cache, answers, "jane", long) is None


def test_answers_for_today_onwards_are_computed_every_time(client: TestClient) -> None:
    """Without a start the days follow the calendar: such answers are not kept."""
    assert client.get(AVAILABILITY).json() == client.get(AVAILABILITY).json()
    assert cache_counts(client) == {"miss": 2.0, "hit": 0.0}
