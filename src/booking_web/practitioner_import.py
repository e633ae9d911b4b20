"""Practitioners from a TOML file (`booking practitioners import FILE`), every problem reported at once.

[[practitioners]]
id = "jane-doe"
name = "Dr. Jane Doe"
timezone = "Europe/Berlin"
session_minutes = 50
price = "90.00"
currency = "EUR"
buffer_after_minutes = 10        # optional, as are the keys below
[practitioners.weekly]
mon = ["09:00-12:00", "13:00-17:00"]
[practitioners.overrides]        # dates with other hours; [] means closed
2030-12-24 = []
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from booking_core import (
    CancellationPolicy,
    DateOverride,
    LocalHours,
    Money,
    Offer,
    Practitioner,
    WeeklySchedule,
)


class PractitionerFileError(Exception):
    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(problems)
        self.problems = problems
        self.path = path

    def __str__(self) -> str:
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        return f"{self.path} has problems; nothing was imported:\n{lines}"


def read_practitioners(path: Path) -> list[Practitioner]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PractitionerFileError(path, [f"cannot read it: {error.strerror}"]) from None
    except tomllib.TOMLDecodeError as error:
        raise PractitionerFileError(path, [f"not valid TOML: {error}"]) from None
    entries = document.get("practitioners")
    if not isinstance(entries, list) or not entries:
        raise PractitionerFileError(path, ["it has no [[practitioners]] entries"])
    practitioners, problems = [], []
    for number, entry in enumerate(entries, start=1):
        label = f"practitioner {number} ({entry.get('id', 'no id')})"
        try:
            practitioners.append(practitioner_from(entry))
        except (KeyError, TypeError, ValueError) as error:
            problems.append(f"{label}: {_describe(error)}")
    ids = [p.id for p in practitioners]
    problems += [f"id {i!r} appears more than once" for i in sorted({i for i in ids if ids.count(i) > 1})]
    if problems:
        raise PractitionerFileError(path, problems)
    return practitioners


def _describe(error: Exception) -> str:
    return f"{error.args[0]} is missing" if isinstance(error, KeyError) else str(error)


def practitioner_from(entry: Mapping[str, Any]) -> Practitioner:
    """One `[[practitioners]]` table as a Practitioner (KeyError for a missing key, ValueError else)."""
    offer = Offer(
        session_length=_minutes(entry["session_minutes"]),
        price=Money.parse(str(entry["price"]), entry["currency"]),
        buffer_before=_minutes(entry.get("buffer_before_minutes", 0)),
        buffer_after=_minutes(entry.get("buffer_after_minutes", 0)),
        min_notice=timedelta(hours=entry.get("min_notice_hours", 0)),
        horizon=timedelta(days=entry.get("horizon_days", 60)),
        slot_step=_minutes(entry["slot_step_minutes"]) if "slot_step_minutes" in entry else None,
        hold_duration=_minutes(entry.get("hold_minutes", 30)),
        cancellation=CancellationPolicy(
            full_refund_notice=timedelta(hours=entry.get("full_refund_notice_hours", 24)),
            late_refund_percent=entry.get("late_refund_percent", 0),
        ),
    )
    schedule = WeeklySchedule(
        entry["timezone"],
        {day: _hours(spans) for day, spans in entry.get("weekly", {}).items()},
        [DateOverride(_date(day), _hours(spans)) for day, spans in entry.get("overrides", {}).items()],
    )
    return Practitioner(
        id=entry["id"],
        name=entry["name"],
        offer=offer,
        schedule=schedule,
        calcom_event_type_id=entry.get("calcom_event_type_id"),
        email=entry.get("email"),
    )


def _minutes(value: object) -> timedelta:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number of minutes")
    return timedelta(minutes=value)


def _hours(spans: object) -> tuple[LocalHours, ...]:
    if not isinstance(spans, list):
        raise ValueError(f'{spans!r} is not a list of "HH:MM-HH:MM" strings')
    return tuple(LocalHours.parse(str(span)) for span in spans)


def _date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
