"""The AvailabilitySource contract, run over the schedule, Cal.com-on-the-fake and the memory fake.

To check your own adapter, subclass AvailabilitySourceContract and give it an `availability`
fixture yielding an AvailabilityCase whose practitioner keeps Mon-Wed 09-12 and 13-17 Berlin time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, timedelta

import pytest
from attrs import evolve

from booking_core import AvailabilitySourceName, Money, Service, TimeRange, zone
from tests.contract.availability_fixtures import MONDAY, AvailabilityCase, availability_case

WEEK = TimeRange.of(MONDAY, timedelta(days=7))
SOURCE_NAMES = {AvailabilitySourceName.SCHEDULE, AvailabilitySourceName.CALCOM}

pytestmark = pytest.mark.anyio


class AvailabilitySourceContract:
    async def test_slots_start_in_the_window_sorted_once_each_with_the_offers_length(
        self, availability: AvailabilityCase
    ) -> None:
        window = TimeRange(MONDAY + timedelta(hours=9, minutes=30), MONDAY + timedelta(days=2, hours=10))
        answer = await availability.source.candidate_slots(availability.practitioner, window)

        assert answer.slots
        assert list(answer.slots) == sorted(set(answer.slots))
        assert all(window.start <= s.start < window.end for s in answer.slots)
        assert all(s.start.tzinfo is UTC for s in answer.slots)
        assert {s.duration for s in answer.slots} == {availability.practitioner.offer.session_length}
        assert answer.source in SOURCE_NAMES

    async def test_the_weekly_hours_decide_which_slots_exist(self, availability: AvailabilityCase) -> None:
        answer = await availability.source.candidate_slots(availability.practitioner, WEEK)

        local = zone(availability.practitioner.timezone)
        starts = [s.start.astimezone(local) for s in answer.slots]
        assert {start.strftime("%a") for start in starts} == {"Mon", "Tue", "Wed"}
        assert [start.strftime("%H:%M") for start in starts if start.strftime("%a") == "Mon"] == [
            "09:00",
            "10:00",
            "11:00",
            "13:00",
            "14:00",
            "15:00",
            "16:00",
        ]

    async def test_a_closed_day_offers_nothing(self, availability: AvailabilityCase) -> None:
        sunday = TimeRange.of(MONDAY - timedelta(days=1), timedelta(days=1))

        answer = await availability.source.candidate_slots(availability.practitioner, sunday)

        assert answer.slots == ()
        assert answer.source in SOURCE_NAMES

    async def test_a_narrower_window_offers_the_same_slots_cut_to_it(
        self, availability: AvailabilityCase
    ) -> None:
        narrow = TimeRange(MONDAY + timedelta(days=1, hours=9), MONDAY + timedelta(days=1, hours=13))

        wide = await availability.source.candidate_slots(availability.practitioner, WEEK)
        cut = await availability.source.candidate_slots(availability.practitioner, narrow)

        assert cut.slots == tuple(s for s in wide.slots if narrow.start <= s.start < narrow.end)

    async def test_slots_of_a_service_last_the_services_length(self, availability: AvailabilityCase) -> None:
        """A source is asked for one service's slots; without a service, the first one's."""
        intro = Service("intro", "Intro call", timedelta(minutes=20), Money(0, "EUR"))
        session = Service("session", "Session", timedelta(minutes=50), Money(9000, "EUR"))
        practitioner = evolve(availability.practitioner, services=(intro, session))

        for service, length in ((intro, 20), (session, 50), (None, 20)):
            answer = await availability.source.candidate_slots(practitioner, WEEK, service=service)
            assert answer.slots
            assert list(answer.slots) == sorted(set(answer.slots))
            assert {s.duration for s in answer.slots} == {timedelta(minutes=length)}

    async def test_a_fresh_answer_agrees_when_nothing_changed(self, availability: AvailabilityCase) -> None:
        cached = await availability.source.candidate_slots(availability.practitioner, WEEK)
        fresh = await availability.source.candidate_slots(availability.practitioner, WEEK, fresh=True)

        assert fresh == cached


class TestAvailabilitySources(AvailabilitySourceContract):
    @pytest.fixture(params=["schedule", "calcom-on-fake", "static"])
    async def availability(self, request: pytest.FixtureRequest) -> AsyncIterator[AvailabilityCase]:
        async with availability_case(request.param) as case:
            yield case
