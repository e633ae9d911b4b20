import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking_core import Money, TimeRange, merge
from booking_core.testing.strategies import time_ranges

T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


def test_time_range_is_normalised_to_utc() -> None:
    berlin_winter = timezone(timedelta(hours=1))
    r = TimeRange(
        datetime(2030, 3, 1, 10, 0, tzinfo=berlin_winter), datetime(2030, 3, 1, 11, 0, tzinfo=berlin_winter)
    )
    assert r.start == T0 and r.start.tzinfo is UTC


@pytest.mark.parametrize("end", [T0, T0 - timedelta(minutes=1)])
def test_time_range_rejects_empty(end: datetime) -> None:
    with pytest.raises(ValueError, match="empty"):
        TimeRange(T0, end)


def test_time_range_rejects_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        TimeRange(datetime(2030, 1, 1), datetime(2030, 1, 2))


def test_half_open_ranges_that_touch_do_not_overlap() -> None:
    a = TimeRange.of(T0, timedelta(hours=1))
    b = TimeRange.of(a.end, timedelta(hours=1))
    assert not a.overlaps(b) and not b.overlaps(a)
    assert a.widen(timedelta(0), timedelta(minutes=1)).overlaps(b)


@given(st.lists(time_ranges(), max_size=20))
def test_merge_gives_disjoint_sorted_cover(ranges: list[TimeRange]) -> None:
    merged = merge(ranges)
    assert all(a.end < b.start for a, b in itertools.pairwise(merged))
    for r in ranges:
        assert any(m.contains(r) for m in merged)
    for m in merged:  # nothing invented: every merged range starts and ends at an input's edge
        assert any(r.start == m.start for r in ranges) and any(r.end == m.end for r in ranges)


@pytest.mark.parametrize(
    ("major", "currency", "minor"),
    [
        ("90.00", "EUR", 9000),
        ("90", "eur", 9000),
        ("0.5", "USD", 50),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
    ],
)
def test_money_parses_major_units(major: str, currency: str, minor: int) -> None:
    money = Money.parse(major, currency)
    assert money.amount == minor and money.currency == currency.upper()


@pytest.mark.parametrize(
    ("major", "currency"), [("1.5", "JPY"), ("0.001", "EUR"), ("ten", "EUR"), ("NaN", "EUR")]
)
def test_money_rejects_imprecise_or_bogus_amounts(major: str, currency: str) -> None:
    with pytest.raises(ValueError):
        Money.parse(major, currency)


@pytest.mark.parametrize("amount", [-1, 1.5, True])
def test_money_is_non_negative_integer_minor_units(amount: object) -> None:
    with pytest.raises(ValueError):
        Money(amount, "EUR")  # type: ignore[arg-type]


def test_money_formats_round_trip() -> None:
    assert str(Money(9050, "EUR")) == "90.50 EUR"
    assert Money.parse(Money(1234, "KWD").format_major(), "KWD") == Money(1234, "KWD")
