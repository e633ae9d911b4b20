"""Availability sources ready for tests: the schedule, Cal.com on the fake, and the memory stand-in
for a calendar (StaticSlotsSource), all offering the same weekly hours.

Shared by the contract suite and tests/unit/calcom; the fake answers in-process through
httpx.ASGITransport, so no socket is needed unless a test takes the server down.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from attrs import define, evolve, field

from booking_adapters.calcom import Calcom, CalcomSettings, open_calcom
from booking_adapters.memory import StaticSlotsSource
from booking_adapters.testing.fake_calcom import FAKE_API_KEY, FakeCalcom, FakeEventType
from booking_core import (
    LocalHours,
    Money,
    Offer,
    Practitioner,
    ScheduleSource,
    TimeRange,
    WeeklySchedule,
)
from booking_core.schedule import slot_starts
from booking_core.testing.availability_contract import MONDAY, AvailabilityCase  # Monday 2030-01-07

EVENT_TYPE_ID = 4242
SESSION = timedelta(minutes=50)

WEEK = WeeklySchedule(
    "Europe/Berlin",
    {
        day: [LocalHours.parse("09:00-12:00"), LocalHours.parse("13:00-17:00")]
        for day in ("mon", "tue", "wed")
    },
)


def practitioner(event_type_id: int | None = EVENT_TYPE_ID, practitioner_id: str = "ada") -> Practitioner:
    return Practitioner(
        id=practitioner_id,
        name="Ada Therapist",
        offer=Offer(session_length=SESSION, price=Money(8000, "EUR"), slot_step=timedelta(hours=1)),
        schedule=WEEK,
        calcom_event_type_id=event_type_id,
    )


def fake_calcom(*event_type_ids: int) -> FakeCalcom:
    """A fake whose event types offer the practitioner's weekly hours, hourly, 50 minutes each."""
    fake = FakeCalcom()
    for event_type_id in event_type_ids or (EVENT_TYPE_ID,):
        fake.add_event_type(FakeEventType(event_type_id, SESSION, WEEK, step=timedelta(hours=1)))
    return fake


def fast_settings(api_base: str = "http://calcom.test", **changes: object) -> CalcomSettings:
    settings = CalcomSettings(
        api_key=FAKE_API_KEY,
        api_base=api_base,
        connect_timeout_seconds=0.5,
        read_timeout_seconds=0.5,
        retry_first_delay_seconds=0.01,
        retry_max_delay_seconds=5.0,
    )
    return evolve(settings, **changes)  # type: ignore[arg-type]


@define
class RecordedSleeps:
    """Stands in for asyncio.sleep in retries: remembers the waits, waits for nothing."""

    waits: list[float] = field(factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@define
class ManualMonotonic:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def calcom_on(
    fake: FakeCalcom,
    settings: CalcomSettings | None = None,
    *,
    sleeps: RecordedSleeps | None = None,
    monotonic: ManualMonotonic | None = None,
    over_network: bool = False,
) -> AsyncIterator[Calcom]:
    """`open_calcom` against the fake: in-process by default, through `settings.api_base` if
    `over_network` (the caller runs the fake's server)."""
    transport = None if over_network else httpx.ASGITransport(app=fake.app())
    calcom = await open_calcom(
        settings or fast_settings(),
        transport=transport,
        sleep=sleeps or RecordedSleeps(),
        monotonic=monotonic or ManualMonotonic(),
    )
    try:
        yield calcom
    finally:
        await calcom.aclose()


@asynccontextmanager
async def availability_case(adapter: str) -> AsyncIterator[AvailabilityCase]:
    if adapter == "schedule":
        yield AvailabilityCase(ScheduleSource(), practitioner(None))
        return
    if adapter == "static":  # a calendar holding the weekly hours' slots from a week before to two after
        weeks = TimeRange(MONDAY - timedelta(days=7), MONDAY + timedelta(days=21))
        starts = slot_starts(WEEK, weeks, SESSION, timedelta(hours=1))
        yield AvailabilityCase(StaticSlotsSource({"ada": starts}), practitioner(None))
        return
    async with calcom_on(fake_calcom()) as calcom:
        yield AvailabilityCase(calcom.source(ScheduleSource()), practitioner())
