"""CalcomSource on the fake: one call per burst, TTL, stale answers, schedule fallback, re-checks."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest
from attrs import evolve
from prometheus_client import REGISTRY

from booking_adapters.calcom import UnreachablePolicy
from booking_adapters.calcom import source as calcom_source
from booking_adapters.testing.fake_calcom import FOREVER, serve_fake_calcom
from booking_core import AvailabilityProviderError, AvailabilitySourceName, ScheduleSource, TimeRange
from booking_core.testing.contracts import hold
from tests.contract.availability_fixtures import (
    EVENT_TYPE_ID,
    MONDAY,
    ManualMonotonic,
    RecordedSleeps,
    calcom_on,
    fake_calcom,
    fast_settings,
    practitioner,
)

pytestmark = pytest.mark.anyio
WEEK = TimeRange.of(MONDAY, timedelta(days=7))


def degraded_count(source: AvailabilitySourceName) -> float:
    return REGISTRY.get_sample_value("calcom_availability_degraded_total", {"source": source.value}) or 0.0


async def test_a_burst_of_100_visitors_costs_cal_com_one_call() -> None:
    fake = fake_calcom()
    fake.delay_seconds = 0.05  # the call is still in flight while the others arrive
    ada = practitioner()
    answers = []
    async with calcom_on(fake) as calcom:
        source = calcom.source(ScheduleSource())

        async def visit(minute: int) -> None:
            # windows cut at "now + notice" differ on every request, yet share the day-aligned range
            window = TimeRange(MONDAY + timedelta(minutes=minute), MONDAY + timedelta(days=2))
            answers.append(await source.candidate_slots(ada, window))

        async with anyio.create_task_group() as visitors:
            for minute in range(100):
                visitors.start_soon(visit, minute)

    assert fake.calls["/v2/slots"] == 1
    assert len(answers) == 100
    assert {a.source for a in answers} == {AvailabilitySourceName.CALCOM}
    assert all(len(a.slots) == 14 for a in answers)  # 9-12 and 13-17 Berlin, hourly, Mon and Tue


async def test_answers_are_cached_for_the_ttl_then_asked_again() -> None:
    fake, clock = fake_calcom(), ManualMonotonic()
    async with calcom_on(fake, fast_settings(cache_ttl_seconds=30), monotonic=clock) as calcom:
        source = calcom.source(ScheduleSource())
        first = await source.candidate_slots(practitioner(), WEEK)
        clock.now += 29
        await source.candidate_slots(practitioner(), WEEK)
        assert fake.calls["/v2/slots"] == 1
        clock.now += 2
        again = await source.candidate_slots(practitioner(), WEEK)

    assert fake.calls["/v2/slots"] == 2
    assert again == first


async def test_the_least_recently_used_ranges_go_beyond_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calcom_source, "_MAX_CACHED_RANGES", 2)
    weeks = [TimeRange.of(MONDAY + timedelta(days=7 * n), timedelta(days=7)) for n in range(3)]
    fake = fake_calcom()
    async with calcom_on(fake) as calcom:
        source = calcom.source(ScheduleSource())
        for week in (weeks[0], weeks[1], weeks[0], weeks[2]):  # the first week is used again: it stays
            await source.candidate_slots(practitioner(), week)
        assert fake.calls["/v2/slots"] == 3
        await source.candidate_slots(practitioner(), weeks[0])
        assert fake.calls["/v2/slots"] == 3
        await source.candidate_slots(practitioner(), weeks[1])  # the least recently used: gone

    assert fake.calls["/v2/slots"] == 4


async def test_slots_carry_the_offers_length_and_match_the_schedule() -> None:
    ada = practitioner()
    async with calcom_on(fake_calcom()) as calcom:
        from_calcom = await calcom.source(ScheduleSource()).candidate_slots(ada, WEEK)
    from_schedule = await ScheduleSource().candidate_slots(ada, WEEK)

    assert from_calcom.slots == from_schedule.slots
    assert {s.duration for s in from_calcom.slots} == {ada.offer.session_length}


async def test_practitioners_without_an_event_type_never_reach_cal_com() -> None:
    fake = fake_calcom()
    async with calcom_on(fake) as calcom:
        answer = await calcom.source(ScheduleSource()).candidate_slots(practitioner(None), WEEK)

    assert answer.source is AvailabilitySourceName.SCHEDULE
    assert answer.slots
    assert fake.calls == {}


async def test_cal_com_down_falls_back_to_the_schedule_then_serves_stale_data() -> None:
    fake, clock = fake_calcom(EVENT_TYPE_ID, 7), ManualMonotonic()
    ada, bea = practitioner(), practitioner(7, "bea")
    with serve_fake_calcom(fake) as server:
        settings = fast_settings(server.url, cache_ttl_seconds=30)
        async with calcom_on(fake, settings, monotonic=clock, over_network=True) as calcom:
            source = calcom.source(ScheduleSource())
            fresh_answer = await source.candidate_slots(ada, WEEK)
            fallbacks = degraded_count(AvailabilitySourceName.SCHEDULE_FALLBACK)
            stales = degraded_count(AvailabilitySourceName.CALCOM_STALE)
            server.down()
            clock.now += 60

            stale = await source.candidate_slots(ada, WEEK)
            fallback = await source.candidate_slots(bea, WEEK)

            server.up()
            back = await source.candidate_slots(ada, WEEK)

    assert fresh_answer.source is AvailabilitySourceName.CALCOM
    assert (stale.source, stale.slots) == (AvailabilitySourceName.CALCOM_STALE, fresh_answer.slots)
    assert fallback.source is AvailabilitySourceName.SCHEDULE_FALLBACK
    assert fallback.slots == (await ScheduleSource().candidate_slots(bea, WEEK)).slots
    assert back.source is AvailabilitySourceName.CALCOM
    assert degraded_count(AvailabilitySourceName.SCHEDULE_FALLBACK) == fallbacks + 1
    assert degraded_count(AvailabilitySourceName.CALCOM_STALE) == stales + 1


async def test_a_hanging_cal_com_times_out_into_the_fallback() -> None:
    fake = fake_calcom()
    fake.hang_next, fake.hang_seconds = FOREVER, 0.6
    with serve_fake_calcom(fake) as server:
        settings = fast_settings(server.url, read_timeout_seconds=0.2, retry_attempts=2)
        async with calcom_on(fake, settings, over_network=True) as calcom:
            answer = await calcom.source(ScheduleSource()).candidate_slots(practitioner(), WEEK)
        fake.hang_next = 0

    assert answer.source is AvailabilitySourceName.SCHEDULE_FALLBACK
    assert fake.calls["/v2/slots"] == 2


async def test_fresh_bypasses_the_cache_and_sees_a_slot_taken_meanwhile() -> None:
    fake, ada = fake_calcom(), practitioner()
    async with calcom_on(fake) as calcom:
        source = calcom.source(ScheduleSource())
        listed = await source.candidate_slots(ada, WEEK)
        taken = listed.slots[0]
        fake.book_directly(EVENT_TYPE_ID, taken.start)

        cached = await source.candidate_slots(ada, WEEK)
        checked = await source.candidate_slots(ada, taken, fresh=True)

    assert taken in cached.slots
    assert checked.slots == ()
    assert checked.source is AvailabilitySourceName.CALCOM
    assert fake.calls["/v2/slots"] == 2


async def test_a_moving_booking_s_own_time_is_offered_to_its_move_alone() -> None:
    fake, ada = fake_calcom(), practitioner()
    fake.event_types[EVENT_TYPE_ID].step = timedelta(minutes=30)
    nine = MONDAY + timedelta(hours=8)  # 09:00 Berlin
    moving = evolve(hold("b1", 0)[0], calendar_uid=fake.book_directly(EVENT_TYPE_ID, nine))
    morning = TimeRange.of(nine, timedelta(hours=3))
    async with calcom_on(fake) as calcom:
        source = calcom.source(ScheduleSource())
        for_others = await source.candidate_slots(ada, morning)
        for_the_move = await source.candidate_slots(ada, morning, moving=moving)
        checked = await source.candidate_slots(ada, morning, fresh=True, moving=moving)
        for_others_again = await source.candidate_slots(ada, morning)
        not_written_yet = await source.candidate_slots(ada, morning, moving=evolve(moving, calendar_uid=None))

    half_past_nine = nine + timedelta(minutes=30)
    assert half_past_nine not in for_others.starts and half_past_nine in for_the_move.starts
    assert checked.starts == for_the_move.starts and for_others_again == not_written_yet == for_others
    assert fake.calls["/v2/slots"] == 3  # each kind of answer cached apart


async def test_a_fresh_check_refuses_when_cal_com_cannot_answer() -> None:
    fake, sleeps = fake_calcom(), RecordedSleeps()
    async with calcom_on(fake, sleeps=sleeps) as calcom:
        source = calcom.source(ScheduleSource())
        await source.candidate_slots(practitioner(), WEEK)  # a stale answer would exist
        fake.error_500_next = FOREVER

        with pytest.raises(AvailabilityProviderError, match="cannot confirm this time"):
            await source.candidate_slots(
                practitioner(), TimeRange.of(MONDAY + timedelta(hours=8), timedelta(minutes=50)), fresh=True
            )

    assert fake.calls["/v2/slots"] == 1 + 3  # the listing, then three tries of the re-check
    assert len(sleeps.waits) == 2


async def test_the_allow_policy_lets_a_fresh_check_answer_from_the_last_good_data() -> None:
    fake = fake_calcom()
    async with calcom_on(fake, fast_settings(unreachable=UnreachablePolicy.ALLOW)) as calcom:
        source = calcom.source(ScheduleSource())
        listed = await source.candidate_slots(practitioner(), WEEK)
        fake.error_500_next = FOREVER

        checked = await source.candidate_slots(practitioner(), listed.slots[0], fresh=True)

    assert checked.source is AvailabilitySourceName.CALCOM_STALE
    assert checked.slots == (listed.slots[0],)
