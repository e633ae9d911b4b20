"""The AvailabilitySource contract (see contracts.py for how to subclass one). Fixture:
`availability`, an AvailabilityCase: your source and a practitioner it serves, who keeps Mon-Wed
09:00-12:00 and 13:00-17:00 Europe/Berlin, hourly slots of 50 minutes, in the week of MONDAY (and the
weeks around it). Besides the examples, a property: any window offers the slots of a wider answer that
start in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from attrs import define, evolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core.availability import AvailabilitySourceName
from booking_core.money import Money
from booking_core.offer import Practitioner, Service
from booking_core.ports import AvailabilitySource
from booking_core.schedule import zone
from booking_core.testing.contracts import hold
from booking_core.timerange import TimeRange

MONDAY = datetime(2030, 1, 7, tzinfo=UTC)
WEEK = TimeRange.of(MONDAY, timedelta(days=7))
SOURCE_NAMES = {AvailabilitySourceName.SCHEDULE, AvailabilitySourceName.CALCOM}
# Each example asks the source twice (a remote calendar's API, for some): a fixed budget.
WINDOW_EXAMPLES = 30


@define
class AvailabilityCase:
    """An availability source and a practitioner it serves (Mon-Wed 09-12, 13-17 Berlin, hourly)."""

    source: AvailabilitySource
    practitioner: Practitioner


class AvailabilitySourceContract:
    """Every behaviour of booking_core.ports.AvailabilitySource. Fixture: `availability`, an
    AvailabilityCase whose practitioner keeps Mon-Wed 09-12 and 13-17 Berlin time, hourly, 50 minutes."""

    pytestmark = pytest.mark.anyio

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

    async def test_a_move_of_a_booking_it_does_not_hold_offers_the_same(
        self, availability: AvailabilityCase
    ) -> None:
        """`moving` changes an answer only by the time of that booking where the source holds it
        (a calendar it was written to); a booking not written there yet changes nothing."""
        booking, _event = hold("contract-move", 9 * 60)
        plain = await availability.source.candidate_slots(availability.practitioner, WEEK)
        moving = await availability.source.candidate_slots(availability.practitioner, WEEK, moving=booking)

        assert booking.calendar_uid is None and moving == plain

    @settings(max_examples=WINDOW_EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        start=st.integers(0, 7 * 24 * 4).map(lambda quarters: MONDAY + timedelta(minutes=15 * quarters)),
        length=st.integers(1, 7 * 24 * 4).map(lambda quarters: timedelta(minutes=15 * quarters)),
    )
    async def test_any_window_offers_the_weeks_slots_that_start_in_it(
        self, availability: AvailabilityCase, start: datetime, length: timedelta
    ) -> None:
        window = TimeRange.of(start, length)
        week = TimeRange(MONDAY, max(window.end, MONDAY + timedelta(days=7)))
        wide = await availability.source.candidate_slots(availability.practitioner, week)
        cut = await availability.source.candidate_slots(availability.practitioner, window)
        assert cut.slots == tuple(s for s in wide.slots if window.start <= s.start < window.end)
