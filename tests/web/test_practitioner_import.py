"""`booking practitioners import FILE`: the issue's TOML shape, upsert by id, all problems at once."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from booking_core import BookingLimits, LocalHours, Money, ReschedulePolicy, Service
from booking_core.schedule import WEEKDAYS
from booking_web.practitioner_import import (
    OPTIONAL_KEYS,
    REQUIRED_KEYS,
    SERVICE_KEYS,
    PractitionerFileError,
    read_practitioners,
)

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


REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE = REPOSITORY / "examples" / "practitioners.toml"
KEYS = {*REQUIRED_KEYS, *OPTIONAL_KEYS}


def test_the_example_file_imports_and_uses_every_key() -> None:
    jane, sam = read_practitioners(EXAMPLE)
    entries = tomllib.loads(EXAMPLE.read_text())["practitioners"]
    assert set().union(*entries) == KEYS
    assert set().union(*entries[0]["services"]) == set(SERVICE_KEYS)
    assert [s.id for s in jane.offered_services] == ["intro", "session", "double-session"]
    assert [s.id for s in sam.offered_services] == ["session"]
    assert set(entries[0]["weekly"]) == set(WEEKDAYS)
    assert jane.email == "jane@example.org" and sam.calcom_event_type_id == 4071936
    assert jane.limits == BookingLimits(per_day=4, per_week=15)
    assert (
        jane.service("intro").limits == BookingLimits(per_day=1, per_week=3)
        and jane.service("intro").price.amount == 0
    )
    assert sam.limits == BookingLimits() and jane.service("session").limits == BookingLimits()
    assert jane.offer.cancellation.in_words() == (
        "Full refund if you cancel at least 48 hours before the session; after that, 50 % refund."
    )
    assert jane.offer.rescheduling == ReschedulePolicy(timedelta(hours=24), 1)
    assert sam.offer.rescheduling == ReschedulePolicy()  # the full-refund notice, 2 moves


def _documented_keys(text: str) -> list[str]:
    return re.findall(r"^\| `(\w+)` \|", text, re.M)


def test_the_docs_list_every_key_and_no_other() -> None:
    docs = (REPOSITORY / "docs" / "practitioners.md").read_text()
    service_section = docs.split("\n### `services`\n", 1)[1].split("\n### ", 1)[0]
    assert sorted(_documented_keys(service_section)) == sorted(SERVICE_KEYS)
    assert sorted(_documented_keys(docs)) == sorted([*KEYS, *SERVICE_KEYS])
    assert "docs/practitioners.md" in (REPOSITORY / "README.md").read_text()


TYPOS = """\
[[practitioners]]
id = "jane-doe"
name = "Dr. Jane Doe"
timezone = "Europe/Berlin"
sesion_minutes = 50
price = "90.00"
currency = "EUR"
note = '''
mon = "inside a string, not a key"
'''
[practitioners.weekly]
mon = ["09:00-12:00"]
mnn = ["13:00-17:00"]
[practitioners.overrides]
2030-12-24 = []
christmas = []

[[practitioners]]
id = "sam-lee"
name = "Sam Lee"
timezone = "UTC"
session_minutes = 30
price = "60"
currency = "USD"
weekly.tues = ["09:00-12:00"]
overrides = { "2030-01-01" = [], someday = [] }
"""


def test_an_unknown_key_is_named_with_its_line_at_every_level(tmp_path: Path) -> None:
    with pytest.raises(PractitionerFileError) as caught:
        read_practitioners(write(tmp_path, TYPOS))
    assert caught.value.problems == [
        "practitioner 1 (jane-doe): unknown key 'sesion_minutes' on line 5 (did you mean 'session_minutes'?)",
        "practitioner 1 (jane-doe): unknown key 'note' on line 8"
        " (the keys are listed in docs/practitioners.md)",
        "practitioner 1 (jane-doe): unknown key 'weekly.mnn' on line 13 (did you mean 'weekly.mon'?)",
        "practitioner 1 (jane-doe): unknown key 'overrides.christmas' on line 16"
        " (its keys are dates of the form YYYY-MM-DD)",
        "practitioner 1 (jane-doe): session_minutes is missing",
        "practitioner 2 (sam-lee): unknown key 'weekly.tues' on line 25 (did you mean 'weekly.tue'?)",
        # inside an inline table: the line of the table
        "practitioner 2 (sam-lee): unknown key 'overrides.someday' on line 26"
        " (its keys are dates of the form YYYY-MM-DD)",
    ]


def test_a_key_outside_the_practitioners_is_named_too(tmp_path: Path) -> None:
    text = 'version = 2\n\n[[practitioner]]\nid = "jane-doe"\n'
    with pytest.raises(PractitionerFileError) as caught:
        read_practitioners(write(tmp_path, text))
    assert caught.value.problems == [
        "unknown key 'version' on line 1: the file holds [[practitioners]] tables",
        "unknown key 'practitioner' on line 3: the file holds [[practitioners]] tables",
        "it has no [[practitioners]] entries",
    ]


def test_weekly_must_be_a_table(tmp_path: Path) -> None:
    text = ISSUE_EXAMPLE.replace("calcom_event_type_id = 4071936", 'weekly = "mon 9-17"').replace(
        "[practitioners.weekly]", "[practitioners.schedule]"
    )
    with pytest.raises(PractitionerFileError) as caught:
        read_practitioners(write(tmp_path, text))
    assert caught.value.problems == [
        "practitioner 1 (jane-doe): unknown key 'schedule' on line 14"
        " (the keys are listed in docs/practitioners.md)",
        "practitioner 1 (jane-doe): weekly must be a table ([practitioners.weekly]), not 'mon 9-17'",
    ]


SERVICES = """\
[[practitioners]]
id = "ada-ng"
name = "Ada Ng"
timezone = "Europe/Berlin"
currency = "EUR"
buffer_after_minutes = 10
[[practitioners.services]]
id = "intro"
name = "Free intro call"
minutes = 15
price = "0.00"
[[practitioners.services]]
id = "session"
name = "Session"
minutes = 50
price = "90.00"
currency = "CHF"
buffer_after_minutes = 0
hold_minutes = 60
[practitioners.weekly]
mon = ["09:00-12:00"]
"""


def test_services_are_read_in_order_with_their_own_settings(tmp_path: Path) -> None:
    """The issue's example: a free intro call and a session with its own buffer."""
    [ada] = read_practitioners(write(tmp_path, SERVICES))
    assert ada.services == (
        Service("intro", "Free intro call", timedelta(minutes=15), Money(0, "EUR")),
        Service(
            "session",
            "Session",
            timedelta(minutes=50),
            Money(9000, "CHF"),
            buffer_after=timedelta(0),
            hold_duration=timedelta(hours=1),
        ),
    )
    assert ada.offer_for(ada.service("intro")).buffer_after == timedelta(minutes=10)  # Ada's
    assert ada.schedule.week[0] == (LocalHours.parse("09:00-12:00"),)  # the weekly table is Ada's


def test_a_mistake_in_a_service_is_named_with_the_service_and_its_line(tmp_path: Path) -> None:
    text = SERVICES.replace("minutes = 50", "minuts = 50").replace(
        'name = "Ada Ng"', 'name = "Ada Ng"\nsession_minutes = 50'
    )
    with pytest.raises(PractitionerFileError) as caught:
        read_practitioners(write(tmp_path, text))
    assert caught.value.problems == [
        "practitioner 1 (ada-ng): unknown key 'minuts' in service 2 on line 16 (did you mean 'minutes'?)",
        "practitioner 1 (ada-ng): service 2 (session): minutes is missing",
    ]
    fixed = text.replace("minuts", "minutes")
    with pytest.raises(PractitionerFileError) as caught:
        read_practitioners(write(tmp_path, fixed))
    assert caught.value.problems == [
        "practitioner 1 (ada-ng): session_minutes: give each service its minutes and price instead"
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (('id = "session"', 'id = "intro"'), "service ids must be unique; repeated: intro"),
        (('id = "session"', 'id = "Session 2"'), "service 2 (Session 2): 'Session 2' is not a URL-safe id"),
        (('price = "90.00"', 'price = "-1"'), "service 2 (session): amount must be a non-negative"),
        (("hold_minutes = 60", "hold_minutes = 5"), "service 2 (session): hold_duration must be between"),
    ],
)
def test_invalid_services_are_refused(tmp_path: Path, change: tuple[str, str], problem: str) -> None:
    with pytest.raises(PractitionerFileError) as caught:
        read_practitioners(write(tmp_path, SERVICES.replace(*change, 1)))
    assert any(problem in found for found in caught.value.problems), caught.value.problems


def test_services_must_be_tables(tmp_path: Path) -> None:
    text = ISSUE_EXAMPLE.replace("horizon_days = 60", 'services = ["intro"]')
    with pytest.raises(PractitionerFileError) as caught:
        read_practitioners(write(tmp_path, text))
    assert caught.value.problems == [
        "practitioner 1 (jane-doe): services must be [[practitioners.services]] tables"
    ]


def test_limits_are_read_for_the_practitioner_and_each_service(tmp_path: Path) -> None:
    text = SERVICES.replace(
        "buffer_after_minutes = 10\n", "buffer_after_minutes = 10\nmax_bookings_per_day = 3\n", 1
    )
    text = text.replace('price = "0.00"\n', 'price = "0.00"\nmax_bookings_per_week = 2\n', 1)
    [ada] = read_practitioners(write(tmp_path, text))
    assert ada.limits == BookingLimits(per_day=3)
    assert [s.limits for s in ada.services] == [BookingLimits(per_week=2), BookingLimits()]
    assert [limit.most for limit in ada.limits_for("intro", _MONDAY_NOON)] == [3, 2]


_MONDAY_NOON = datetime(2030, 1, 14, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "shown"), [("0", "0"), ('"3"', "'3'"), ("true", "True"), ("2.5", "2.5")])
def test_a_limit_must_be_a_whole_number_of_at_least_one(tmp_path: Path, value: str, shown: str) -> None:
    limit = f"buffer_after_minutes = 10\nmax_bookings_per_week = {value}\n"
    text = SERVICES.replace("buffer_after_minutes = 10\n", limit, 1)
    with pytest.raises(PractitionerFileError) as caught:
        read_practitioners(write(tmp_path, text))
    assert caught.value.problems == [
        f"practitioner 1 (ada-ng): max_bookings_per_week must be a whole number of at least 1, not {shown}"
    ]


def test_reminder_hours_and_a_services_location_are_read(tmp_path: Path) -> None:
    [jane] = read_practitioners(write(tmp_path, ISSUE_EXAMPLE))
    assert jane.offer.reminder_offsets == (timedelta(hours=24),)  # the default
    text = SERVICES.replace(
        "buffer_after_minutes = 10\n", "buffer_after_minutes = 10\nreminder_hours = [2, 24.5]\n", 1
    )
    text = text.replace('price = "0.00"\n', 'price = "0.00"\nlocation = "https://meet.example.org/ada"\n', 1)
    [ada] = read_practitioners(write(tmp_path, text))
    assert ada.offer.reminder_offsets == (
        timedelta(hours=24, minutes=30),
        timedelta(hours=2),
    )  # earliest first
    assert [s.location for s in ada.services] == ["https://meet.example.org/ada", None]
    [none] = read_practitioners(
        write(tmp_path, SERVICES.replace('currency = "EUR"\n', 'currency = "EUR"\nreminder_hours = []\n', 1))
    )
    assert none.offer.reminder_offsets == ()


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("reminder_hours = 24", "reminder_hours must be a list of numbers of hours, like [24, 2], not 24"),
        (
            'reminder_hours = ["24"]',
            "reminder_hours must be a list of numbers of hours, like [24, 2], not ['24']",
        ),
        ("reminder_hours = [0]", "reminder_hours must each be more than 0 and at most 720"),
        ("reminder_hours = [721]", "reminder_hours must each be more than 0 and at most 720"),
        ("reminder_hours = [1, 2, 3, 4, 5, 6]", "reminder_hours: at most 5 reminders"),
    ],
)
def test_invalid_reminder_hours_are_refused(tmp_path: Path, setting: str, problem: str) -> None:
    text = SERVICES.replace("buffer_after_minutes = 10\n", f"buffer_after_minutes = 10\n{setting}\n", 1)
    with pytest.raises(PractitionerFileError) as caught:
        read_practitioners(write(tmp_path, text))
    assert caught.value.problems == [f"practitioner 1 (ada-ng): {problem}"]


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("42", "location must be a text (an address or a video link), not 42"),
        ('"  "', "location must be 1 to 500 characters"),
        (f'"{"x" * 501}"', "location must be 1 to 500 characters"),
    ],
)
def test_an_invalid_location_is_refused_naming_the_service(
    tmp_path: Path, location: str, problem: str
) -> None:
    text = SERVICES.replace('price = "0.00"\n', f'price = "0.00"\nlocation = {location}\n', 1)
    with pytest.raises(PractitionerFileError) as caught:
        read_practitioners(write(tmp_path, text))
    assert caught.value.problems == [f"practitioner 1 (ada-ng): service 1 (intro): {problem}"]
