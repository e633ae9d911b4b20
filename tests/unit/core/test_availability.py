from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from booking_core import AvailabilitySourceName, CandidateSlots, Money, Offer, TimeRange, free_slots
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


@given(
    offers(),
    st.lists(instants(days=30), max_size=60),
    st.lists(_near(max_minutes=180), max_size=25),
    _near(max_minutes=60 * 24 * 30),
    st.integers(-5000, 5000),
)
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
