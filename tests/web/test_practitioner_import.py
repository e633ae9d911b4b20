"""`booking practitioners import FILE`: the issue's TOML shape, upsert by id, all problems at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from booking_core import LocalHours, Money
from booking_web.practitioner_import import PractitionerFileError, read_practitioners

ISSUE_EXAMPLE = """
[[practitioners]]
id = "jane-doe"                  # URL-safe, stable
name = "Dr. Jane Doe"
timezone = "Europe/Berlin"
session_minutes = 50
price = "90.00"                  # decimal string, in the currency's major unit
currency = "EUR"
buffer_after_minutes = 10
min_notice_hours = 12
horizon_days = 60
calcom_event_type_id = 4071936   # optional: availability from Cal.com
[practitioners.weekly]
mon = ["09:00-12:00", "13:00-17:00"]
wed = ["09:00-17:00"]
[practitioners.overrides]
2030-12-24 = []
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "practitioners.toml"
    path.write_text(text)
    return path


def test_the_issue_example_reads(tmp_path: Path) -> None:
    [jane] = read_practitioners(write(tmp_path, ISSUE_EXAMPLE))
    assert jane.id == "jane-doe"
    assert jane.offer.price == Money(9000, "EUR")
    assert jane.offer.session_length == timedelta(minutes=50)
    assert jane.offer.buffer_after == timedelta(minutes=10)
    assert jane.offer.min_notice == timedelta(hours=12)
    assert jane.calcom_event_type_id == 4071936
    assert jane.schedule.week[0] == (LocalHours.parse("09:00-12:00"), LocalHours.parse("13:00-17:00"))
    assert jane.schedule.week[1] == ()
    assert jane.schedule.overrides[0].hours == ()


def test_every_problem_is_reported_and_nothing_imported(tmp_path: Path) -> None:
    broken = (
        ISSUE_EXAMPLE.replace('price = "90.00"', 'price = "90.005"')
        + """
[[practitioners]]
id = "Not Safe"
name = "X"
timezone = "Mars/Olympus"
session_minutes = 30
price = "10"
currency = "EUR"

[[practitioners]]
id = "no-price"
name = "Y"
timezone = "UTC"
session_minutes = 30
currency = "EUR"
"""
    )
    with pytest.raises(PractitionerFileError) as caught:
        read_practitioners(write(tmp_path, broken))
    problems = caught.value.problems
    assert len(problems) == 3
    assert "more decimals" in problems[0]
    assert "practitioner 3 (no-price): price is missing" in problems[2]


def test_not_toml_is_one_clear_problem(tmp_path: Path) -> None:
    with pytest.raises(PractitionerFileError, match="not valid TOML"):
        read_practitioners(write(tmp_path, "[[practitioners]\n"))
