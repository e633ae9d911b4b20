"""Practitioners from a TOML file (`booking practitioners import FILE`), every problem reported at once.
Every key is documented in docs/practitioners.md; examples/practitioners.toml uses them all. A key
this module does not know (a typo) is a problem naming the key and its line.

[[practitioners]]
id = "jane-doe"
name = "Dr. Jane Doe"
timezone = "Europe/Berlin"
session_minutes = 50
price = "90.00"
currency = "EUR"
buffer_after_minutes = 10        # optional, as are the keys below
[[practitioners.services]]       # optional: without, session_minutes/price are the one service
id = "intro"
name = "Free intro call"
minutes = 15
price = "0.00"
[practitioners.weekly]
mon = ["09:00-12:00", "13:00-17:00"]
[practitioners.overrides]        # dates with other hours; [] means closed
2030-12-24 = []
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Callable, Collection, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from booking_core import (
    DEFAULT_REMINDER_OFFSETS,
    BookingLimits,
    CancellationPolicy,
    DateOverride,
    LocalHours,
    Money,
    Offer,
    Practitioner,
    ReschedulePolicy,
    Service,
    WeeklySchedule,
)
from booking_core.schedule import WEEKDAYS
from booking_web.toml_lines import KeyLines

# The keys of a [[practitioners]] table, in the order docs/practitioners.md lists them.
REQUIRED_KEYS = ("id", "name", "timezone", "session_minutes", "price", "currency")
OPTIONAL_KEYS = (
    "email",
    "calcom_event_type_id",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "slot_step_minutes",
    "min_notice_hours",
    "horizon_days",
    "hold_minutes",
    "full_refund_notice_hours",
    "late_refund_percent",
    "reminder_hours",
    "reschedule_notice_hours",
    "max_reschedules",
    "max_bookings_per_day",
    "max_bookings_per_week",
    "services",
    "weekly",
    "overrides",
)
# Without `services`, session_minutes and price make the practitioner's one service (`session`);
# with services, each gives its own.
NEEDED_WITHOUT_SERVICES = ("session_minutes", "price")
# The keys of a [[practitioners.services]] table, in the order docs/practitioners.md lists them.
SERVICE_REQUIRED_KEYS = ("id", "name", "minutes", "price")
SERVICE_OPTIONAL_KEYS = (
    "currency",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "slot_step_minutes",
    "min_notice_hours",
    "hold_minutes",
    "max_bookings_per_day",
    "max_bookings_per_week",
    "location",
)
SERVICE_KEYS = (*SERVICE_REQUIRED_KEYS, *SERVICE_OPTIONAL_KEYS)


def _is_date(key: str) -> bool:
    try:
        date.fromisoformat(key)
    except ValueError:
        return False
    return True


# The keys inside its sub-tables: weekdays in `weekly`, dates in `overrides`; (test, what they are).
SUB_TABLE_KEYS: dict[str, tuple[Callable[[str], bool], str]] = {
    "weekly": (WEEKDAYS.__contains__, ", ".join(WEEKDAYS)),
    "overrides": (_is_date, "dates of the form YYYY-MM-DD"),
}


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
        text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except OSError as error:
        raise PractitionerFileError(path, [f"cannot read it: {error.strerror}"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PractitionerFileError(path, [f"not valid TOML: {error}"]) from None
    lines = KeyLines(text, "practitioners")
    problems = [
        f"unknown key {key!r}{_on_line(lines.line_of(0, (key,)))}: the file holds [[practitioners]] tables"
        for key in document
        if key != "practitioners"
    ]
    entries = document.get("practitioners")
    if not isinstance(entries, list) or not entries:
        raise PractitionerFileError(path, [*problems, "it has no [[practitioners]] entries"])
    practitioners = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            problems.append(f"practitioner {number}: not a table of keys")
            continue
        label = f"practitioner {number} ({entry.get('id', 'no id')})"
        unknown = _unknown_keys(entry)
        problems += [f"{label}: {_unknown(path, lines, number)}" for path in unknown]
        try:  # without the unknown keys, so that each problem is told once
            practitioners.append(practitioner_from(_without(entry, unknown)))
        except (KeyError, TypeError, ValueError) as error:
            problems.append(f"{label}: {_describe(error)}")
    ids = [p.id for p in practitioners]
    problems += [f"id {i!r} appears more than once" for i in sorted({i for i in ids if ids.count(i) > 1})]
    if problems:
        raise PractitionerFileError(path, problems)
    return practitioners


def _unknown_keys(entry: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The path of every key of `entry` (and of its sub-tables) that is not one of ours; a key of
    its n-th service is ("services", "n", key)."""
    unknown: list[tuple[str, ...]] = []
    for key, value in entry.items():
        if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS:
            unknown.append((key,))
        elif key in SUB_TABLE_KEYS and isinstance(value, dict):
            known = SUB_TABLE_KEYS[key][0]
            unknown += [(key, inner) for inner in value if not known(inner)]
        elif key == "services":
            unknown += [
                (key, str(number), inner)
                for number, service in _numbered(value)
                for inner in service
                if inner not in SERVICE_KEYS
            ]
    return unknown


def _numbered(services: object) -> list[tuple[int, dict[str, Any]]]:
    """The tables of a `services` array, numbered from 1 (what is not a table is left to
    `practitioner_from` to refuse)."""
    listed = services if isinstance(services, list) else []
    return [(number, table) for number, table in enumerate(listed, start=1) if isinstance(table, dict)]


def _without(entry: Mapping[str, Any], unknown: Collection[tuple[str, ...]]) -> dict[str, Any]:
    kept = {key: value for key, value in entry.items() if (key,) not in unknown}
    for key in SUB_TABLE_KEYS:
        if isinstance(kept.get(key), dict):
            kept[key] = {inner: value for inner, value in kept[key].items() if (key, inner) not in unknown}
    if isinstance(kept.get("services"), list):
        kept["services"] = [
            {inner: value for inner, value in service.items() if ("services", str(n), inner) not in unknown}
            if isinstance(service, dict)
            else service
            for n, service in enumerate(kept["services"], start=1)
        ]
    return kept


def _unknown(path: tuple[str, ...], lines: KeyLines, number: int) -> str:
    """`unknown key 'sesion_minutes' on line 7 (did you mean 'session_minutes'?)`"""
    where = _on_line(lines.line_of(number, path))
    if len(path) == 3:  # a key of a service
        _services, service_number, key = path
        close = difflib.get_close_matches(key, list(SERVICE_KEYS), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "the keys are listed in docs/practitioners.md"
        return f"unknown key {key!r} in service {service_number}{where} ({hint})"
    if len(path) == 1:
        # closer than difflib's default 0.6: 'schedule' is not a typo of 'max_reschedules'
        close = difflib.get_close_matches(path[0], [*REQUIRED_KEYS, *OPTIONAL_KEYS], n=1, cutoff=0.75)
        hint = f"did you mean {close[0]!r}?" if close else "the keys are listed in docs/practitioners.md"
        return f"unknown key {path[0]!r}{where} ({hint})"
    table, key = path
    close = difflib.get_close_matches(key, list(WEEKDAYS), n=1) if table == "weekly" else []
    hint = f"did you mean '{table}.{close[0]}'?" if close else f"its keys are {SUB_TABLE_KEYS[table][1]}"
    return f"unknown key '{table}.{key}'{where} ({hint})"


def _on_line(line: int | None) -> str:
    return "" if line is None else f" on line {line}"


def _describe(error: Exception) -> str:
    return f"{error.args[0]} is missing" if isinstance(error, KeyError) else str(error)


def practitioner_from(entry: Mapping[str, Any]) -> Practitioner:
    """One `[[practitioners]]` table as a Practitioner (KeyError for a missing key, ValueError else)."""
    services = _services(entry)
    if services:
        given = [key for key in NEEDED_WITHOUT_SERVICES if key in entry]
        if given:  # else they would be silently unused
            raise ValueError(f"{' and '.join(given)}: give each service its minutes and price instead")
        # The offer is the services' defaults; its own length and price are offered by no one.
        length, price = services[0].length, services[0].price
    else:
        length = _minutes(entry["session_minutes"])
        price = Money.parse(str(entry["price"]), entry["currency"])
    notice = entry.get("reschedule_notice_hours")
    offer = Offer(
        session_length=length,
        price=price,
        horizon=timedelta(days=entry.get("horizon_days", 60)),
        cancellation=CancellationPolicy(
            full_refund_notice=timedelta(hours=entry.get("full_refund_notice_hours", 24)),
            late_refund_percent=entry.get("late_refund_percent", 0),
        ),
        reminder_offsets=_reminder_offsets(entry),
        rescheduling=ReschedulePolicy(
            notice=None if notice is None else timedelta(hours=notice),
            max_moves=entry.get("max_reschedules", ReschedulePolicy().max_moves),
        ),
        **_durations(entry),
    )
    schedule = WeeklySchedule(
        entry["timezone"],
        {day: _hours(spans) for day, spans in _table(entry, "weekly").items()},
        [DateOverride(_date(day), _hours(spans)) for day, spans in _table(entry, "overrides").items()],
    )
    return Practitioner(
        id=entry["id"],
        name=entry["name"],
        offer=offer,
        schedule=schedule,
        calcom_event_type_id=entry.get("calcom_event_type_id"),
        email=entry.get("email"),
        services=services,
        limits=_limits(entry),
    )


def _services(entry: Mapping[str, Any]) -> tuple[Service, ...]:
    listed = entry.get("services", [])
    if not isinstance(listed, list) or not all(isinstance(table, dict) for table in listed):
        raise ValueError("services must be [[practitioners.services]] tables")
    services = []
    for number, table in enumerate(listed, start=1):
        try:
            services.append(
                Service(
                    id=table["id"],
                    name=table["name"],
                    length=_minutes(table["minutes"]),
                    price=Money.parse(str(table["price"]), table.get("currency", entry["currency"])),
                    limits=_limits(table),
                    location=_location(table),
                    **_durations(table),
                )
            )
        except KeyError as error:
            raise ValueError(f"service {number} ({table.get('id', 'no id')}): {_describe(error)}") from None
        except (TypeError, ValueError) as error:
            raise ValueError(f"service {number} ({table.get('id', 'no id')}): {error}") from None
    return tuple(services)


def _reminder_offsets(entry: Mapping[str, Any]) -> tuple[timedelta, ...]:
    """`reminder_hours`: a list of hours before the start (fractions allowed); [] for none."""
    hours = entry.get("reminder_hours", [offset / timedelta(hours=1) for offset in DEFAULT_REMINDER_OFFSETS])
    if not isinstance(hours, list) or not all(_is_number(value) for value in hours):
        raise ValueError(f"reminder_hours must be a list of numbers of hours, like [24, 2], not {hours!r}")
    return tuple(timedelta(hours=value) for value in hours)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _location(table: Mapping[str, Any]) -> str | None:
    location = table.get("location")
    if location is not None and not isinstance(location, str):
        raise ValueError(f"location must be a text (an address or a video link), not {location!r}")
    return location


def _table(entry: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    table = entry.get(key, {})
    if not isinstance(table, dict):
        raise ValueError(f"{key} must be a table ([practitioners.{key}]), not {table!r}")
    return table


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


# The durations a practitioner sets for all their services, and a service for itself (left out:
# the Offer's default, or for a service the practitioner's): key -> (Offer field, reader).
_DURATION_KEYS: dict[str, tuple[str, Callable[[Any], timedelta]]] = {
    "buffer_before_minutes": ("buffer_before", _minutes),
    "buffer_after_minutes": ("buffer_after", _minutes),
    "slot_step_minutes": ("slot_step", _minutes),
    "min_notice_hours": ("min_notice", lambda value: timedelta(hours=value)),
    "hold_minutes": ("hold_duration", _minutes),
}


def _limits(entry: Mapping[str, Any]) -> BookingLimits:
    """A practitioner's (or a service's) max_bookings_per_day and max_bookings_per_week."""
    day, week = (_count(entry, key) for key in ("max_bookings_per_day", "max_bookings_per_week"))
    return BookingLimits(per_day=day, per_week=week)


def _count(entry: Mapping[str, Any], key: str) -> int | None:
    value = entry.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ValueError(f"{key} must be a whole number of at least 1, not {value!r}")
    return value


def _durations(entry: Mapping[str, Any]) -> dict[str, timedelta]:
    return {field: read(entry[key]) for key, (field, read) in _DURATION_KEYS.items() if key in entry}
