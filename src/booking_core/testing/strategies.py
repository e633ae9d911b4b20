"""Hypothesis strategies for the domain types, for anyone's test suite (the `testing` extra)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

from booking_core.client import ClientDetails
from booking_core.money import Money
from booking_core.offer import Offer, Practitioner
from booking_core.schedule import DateOverride, LocalHours, WeeklySchedule
from booking_core.timerange import TimeRange

# Zones with the interesting cases: ordinary DST, a 30-minute DST shift, a half-hour offset without
# DST, the southern hemisphere, and UTC.
TIMEZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "UTC",
)

EPOCH = datetime(2030, 1, 1, tzinfo=UTC)


def instants(start: datetime = EPOCH, days: int = 730, step_minutes: int = 5) -> st.SearchStrategy[datetime]:
    """UTC instants on a `step_minutes` grid within `days` of `start`."""
    return st.integers(0, days * 24 * 60 // step_minutes).map(
        lambda n: start + timedelta(minutes=n * step_minutes)
    )


def time_ranges(max_minutes: int = 8 * 60, step_minutes: int = 5) -> st.SearchStrategy[TimeRange]:
    return st.builds(
        lambda start, n: TimeRange.of(start, timedelta(minutes=n * step_minutes)),
        instants(step_minutes=step_minutes),
        st.integers(1, max_minutes // step_minutes),
    )


def local_hours(step_minutes: int = 15) -> st.SearchStrategy[tuple[LocalHours, ...]]:
    """Zero to three non-overlapping opening-hours blocks in one day."""
    per_day = 24 * 60 // step_minutes
    return st.lists(st.integers(0, per_day), min_size=0, max_size=6, unique=True).map(
        lambda cuts: tuple(
            LocalHours(a * step_minutes, b * step_minutes)
            for a, b in zip(sorted(cuts)[::2], sorted(cuts)[1::2], strict=False)
            if a < b
        )
    )


def weekly_schedules(timezones: tuple[str, ...] = TIMEZONES) -> st.SearchStrategy[WeeklySchedule]:
    overrides = st.lists(
        st.builds(DateOverride, st.dates(date(2030, 1, 1), date(2031, 12, 31)), local_hours()),
        max_size=4,
        unique_by=lambda o: o.day,
    )
    return st.builds(
        WeeklySchedule,
        st.sampled_from(timezones),
        st.lists(local_hours(), min_size=7, max_size=7),
        overrides,
    )


def money(currencies: tuple[str, ...] = ("EUR", "USD", "GBP", "JPY")) -> st.SearchStrategy[Money]:
    return st.builds(Money, st.integers(0, 100_000), st.sampled_from(currencies))


def _minutes(low: int, high: int, step: int = 5) -> st.SearchStrategy[timedelta]:
    return st.integers(low // step, high // step).map(lambda n: timedelta(minutes=n * step))


def offers() -> st.SearchStrategy[Offer]:
    return st.builds(
        Offer,
        session_length=_minutes(15, 120),
        price=money(),
        buffer_before=_minutes(0, 30),
        buffer_after=_minutes(0, 30),
        min_notice=_minutes(0, 48 * 60, step=60),
        horizon=st.integers(1, 120).map(lambda d: timedelta(days=d)),
        slot_step=st.none() | _minutes(5, 120),
    )


def practitioners() -> st.SearchStrategy[Practitioner]:
    return st.builds(
        Practitioner,
        id=st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True),
        name=st.text(st.characters(categories=("L", "N", "Zs")), min_size=1, max_size=40).filter(str.strip),
        offer=offers(),
        schedule=weekly_schedules(),
    )


def client_details() -> st.SearchStrategy[ClientDetails]:
    """Valid, already normalised client details."""
    return st.builds(
        ClientDetails,
        name=st.sampled_from(["Ann Example", "Jürgen Groß", "李小龍", "Zoë O'Brien"]),
        email=st.from_regex(r"[a-z]{1,10}@example\.(com|org)", fullmatch=True),
        phone=st.sampled_from(["+493012345678", "+12025550123", "+61255501234", "+919876543210"]),
    )
