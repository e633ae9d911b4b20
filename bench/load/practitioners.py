"""The practitioners a run imports with `booking practitioners import`: many, so that bookings land
on distinct slots of different people, plus one per flash sale whose few slots everyone wants."""

from __future__ import annotations

from pathlib import Path

TIMEZONES = ("Europe/Berlin", "America/New_York", "Europe/London", "Asia/Tokyo")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def regular_id(number: int) -> str:
    return f"coach-{number:04d}"


def flash_id(label: str) -> str:
    return f"flash-{label}"


def _entry(practitioner_id: str, timezone: str) -> str:
    weekly = "\n".join(f'{day} = ["09:00-12:00", "13:00-17:00"]' for day in WEEKDAYS)
    return f"""[[practitioners]]
id = "{practitioner_id}"
name = "Load Test {practitioner_id}"
timezone = "{timezone}"
session_minutes = 50
buffer_after_minutes = 10
price = "80.00"
currency = "EUR"
min_notice_hours = 2
horizon_days = 60
[practitioners.weekly]
{weekly}
"""


def write_practitioners(path: Path, count: int, flash_labels: list[str]) -> None:
    entries = [_entry(regular_id(n), TIMEZONES[n % len(TIMEZONES)]) for n in range(count)]
    entries += [_entry(flash_id(label), "Europe/Berlin") for label in flash_labels]
    path.write_text("\n".join(entries), encoding="utf-8")
