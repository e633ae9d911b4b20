from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from booking_core import (
    AvailabilitySourceName,
    CandidateSlots,
    Money,
    Offer,
    TimeRange,
    free_slots,
    unchanged_until,
)
from booking_core.testing.strategies import instants, offers

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def _offer(**kwargs: object) -> Offer:
    return Offer(session_length=timedelta(minutes=50), price=Money(9000, "EUR"), **kwargs)  # type: ignore[arg-type]


def _grid(n: int, length: timedelta, step: timedelta) -> CandidateSlots:
    return CandidateSlots(tuple(T0 + i * step for i in range(n)), length, AvailabilitySourceName.SCHEDULE)


def test_buffers_keep_neighbours_free() -> None:
    offer = _offer(buffer_after=10 * MIN)
    candidates = _grid(6, 50 * MIN, 30 * MIN)  # 09:00, 09:30, ... overlapping candidates
    booked = offer.occupied(candidates.slots[2])  # 10:00-11:00 occupied
    free = free_slots(candidates, [booked], offer, TimeRange.of(T0, timedelta(days=1)), T0)
    # 09:00 slot occupies 09:00-10:00: touches, allowed; 09:30 would overlap; 10:30 too; 11:00 free
    assert [s.start for s in free] == [T0, T0 + 120 * MIN, T0 + 150 * MIN]


def test_minimum_notice_and_horizon_cut_the_window() -> None:
    offer = _offer(min_notice=timedelta(hours=2), horizon=timedelta(hours=5))
    candidates = _grid(10, 50 * MIN, 60 * MIN)
    free = free_slots(candidates, [], offer, TimeRange.of(T0, timedelta(days=1)), now=T0)
    assert [s.start for s in free] == [T0 + h * 60 * MIN for h in (2, 3, 4)]


def test_nothing_when_window_is_past_the_horizon() -> None:
    offer = _offer(horizon=timedelta(days=1))
    window = TimeRange.of(T0 + timedelta(days=2), timedelta(days=1))
    assert free_slots(_grid(3, 50 * MIN, 60 * MIN), [], offer, window, T0) == []


def _brute_force(
    candidates: CandidateSlots, busy: list[TimeRange], offer: Offer, window: TimeRange, now: datetime
) -> list[TimeRange]:
    return sorted(
        (
            c
            for c in set(candidates.slots)
            if window.start <= c.start < window.end
            and now + offer.min_notice <= c.start < now + offer.horizon
            and not any(offer.occupied(c).overlaps(b) for b in busy)
        ),
        key=lambda c: c.start,
    )


def _near(max_minutes: int) -> st.SearchStrategy[TimeRange]:
    """Ranges within the same month, so that candidates, busy spans and windows meet."""
    return st.builds(
        lambda start, n: TimeRange.of(start, timedelta(minutes=5 * n)),
        instants(days=30),
        st.integers(1, max_minutes // 5),
    )


# offer, candidate starts, busy spans, window, minutes from the window's start to now
SCENARIOS = (
    offers(),
    st.lists(instants(days=30), max_size=60),
    st.lists(_near(max_minutes=180), max_size=25),
    _near(max_minutes=60 * 24 * 30),
    st.integers(-5000, 5000),
)


@given(*SCENARIOS)
def test_sweep_equals_brute_force(
    offer: Offer, starts: list[datetime], busy: list[TimeRange], window: TimeRange, shift: int
) -> None:
    """Availability never offers a conflicting slot, and never hides a free one (overlapping busy
    spans and unsorted, repeated starts included)."""
    now = window.start + timedelta(minutes=shift)
    candidates = CandidateSlots(tuple(starts), offer.session_length, AvailabilitySourceName.CALCOM)
    assert free_slots(candidates, busy, offer, window, now) == _brute_force(
        candidates, busy, offer, window, now
    )


@given(*SCENARIOS, st.integers(0, 60 * 24 * 40))
def test_an_answer_stays_right_until_unchanged_until(
    offer: Offer, starts: list[datetime], busy: list[TimeRange], window: TimeRange, shift: int, later: int
) -> None:
    """What a cache of availability relies on: with the same bookings, the answer computed at `now`
    is the answer at every instant up to `unchanged_until` (and for ever when that is None)."""
    now = window.start + timedelta(minutes=shift)
    candidates = CandidateSlots(tuple(starts), offer.session_length, AvailabilitySourceName.SCHEDULE)
    free = free_slots(candidates, busy, offer, window, now)
    until = unchanged_until(free, offer, window, now)
    moment = now + timedelta(minutes=later)
    if until is not None:
        moment = min(moment, until)
    assert free_slots(candidates, busy, offer, window, moment) == free


def test_unchanged_until_is_the_first_slot_entering_minimum_notice() -> None:
    offer = _offer(min_notice=timedelta(hours=2))
    window = TimeRange.of(T0, timedelta(days=1))
    free = free_slots(_grid(10, 50 * MIN, 60 * MIN), [], offer, window, now=T0)
    until = unchanged_until(free, offer, window, T0)
    assert until == T0  # the 11:00 slot is offered until 09:00 exactly
    assert free_slots(_grid(10, 50 * MIN, 60 * MIN), [], offer, window, until + MIN) == free[1:]
    assert unchanged_until([], offer, window, T0) is None


def test_a_horizon_inside_the_window_lets_slots_in_at_any_moment() -> None:
    offer = _offer(horizon=timedelta(hours=5))  # starts before 14:00 at 09:00, before 15:00 at 10:00
    window = TimeRange.of(T0, timedelta(days=1))
    candidates = _grid(10, 50 * MIN, 60 * MIN)
    morning = [TimeRange.of(T0, 3 * 60 * MIN)]  # 09:00-12:00 booked: 12:00 and 13:00 are free
    free = free_slots(candidates, morning, offer, window, now=T0)
    assert [s.start for s in free] == [T0 + 3 * 60 * MIN, T0 + 4 * 60 * MIN]
    assert free_slots(candidates, morning, offer, window, T0 + 61 * MIN) != free  # 14:00 came in
    assert unchanged_until(free, offer, window, T0) == T0
