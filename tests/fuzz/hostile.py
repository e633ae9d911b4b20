"""Hypothesis strategies for what an attacker (or a broken client) sends."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import quote

from hypothesis import strategies as st

MARKUP = (
    "<script>alert(1)</script>",
    "<b>Ann</b>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
)
SQL = ("' OR 1=1 --", "Robert'); DROP TABLE bookings;--", "1; SELECT * FROM bookings", '" OR ""="')
ODD_UNICODE = (
    "\u202eAnn\u202c",  # right-to-left override
    "A\u200dB\u200c",  # zero-width joiner and non-joiner
    "\u0000",
    "Ann\u0000Example",
    "\ud800",  # a lone surrogate: valid JSON when escaped, not valid text
    "\udfff\ud800",
    "e\u0301" * 40,  # combining marks
    "\ufeffAnn",
    "\U0001d56c\U0001d593\U0001d593 \U0001f600",  # mathematical letters, an emoji
    "\r\nX-Injected: 1",
    "{{7*7}}${7*7}",
    "../../etc/passwd",
    "x" * 5000,
)
HOSTILE = (*MARKUP, *SQL, *ODD_UNICODE)

hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=60),
    st.text(st.characters(categories=["Cs", "Cc", "Cf", "Mn", "Zl", "Zp"]), max_size=12),
)
wrong_type = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),  # NaN and infinities too: Python's JSON writes and reads them
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)

ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "UTC",
    "Etc/GMT-14",
    "Etc/GMT+12",
    "Pacific/Kiritimati",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/St_Johns",
)
BAD_ZONES = ("Mars/Olympus", "Europe/../UTC", "/etc/localtime", "Etc/GMT+14", "europe/berlin ", "")
# Once 500s (zone() let OSError through); see test_calendar_edges.py.
ZONE_LOOKUP_CRASHES = ("Europe", "America/Argentina", "x" * 300)
timezones = st.one_of(
    st.sampled_from(ZONES),
    st.sampled_from(BAD_ZONES + ZONE_LOOKUP_CRASHES),
    hostile_text.filter(lambda text: len(text) < 200),
)

BAD_DATES = ("2030-02-30", "2030-13-01", "0000-01-01", "10000-01-01", "2030-1-1", "-2030-01-01", "", "today")
dates = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.sampled_from(("0001-01-01", "9999-12-31", "9999-12-25", "0001-01-07")),
    st.sampled_from(BAD_DATES),
    hostile_text,
)
# Once 500s (slot arithmetic overflowed); see test_calendar_edges.py.
EDGE_OF_CALENDAR_STARTS = (
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59+00:00",
    "9999-12-31T23:00:00-14:00",
)
date_times = st.one_of(
    st.datetimes().map(lambda moment: moment.isoformat()),  # naive: the offset is required
    st.sampled_from(
        (
            "2030-02-30T10:00:00+01:00",
            "2030-03-31T02:30:00+02:00",  # inside Berlin's spring gap
            "2030-10-27T02:30:00+01:00",  # Berlin's repeated hour, second time
            "2030-10-27T02:30:00+02:00",  # and first time
            "2030-03-10T02:30:00-05:00",  # New York's spring gap
            "2030-01-14T09:00:00+25:00",
            "2030-01-14T09:00:00Z",
            *EDGE_OF_CALENDAR_STARTS,
        )
    ),
    hostile_text,
)


def json_bytes(value: object) -> bytes:
    """JSON as a client would send it; lone surrogates leave as \\ud800 escapes."""
    return json.dumps(value).encode()


def query_string(params: dict[str, str]) -> str:
    """Percent-encode even what is not valid text (surrogates become their raw bytes)."""
    return "&".join(f"{key}={quote(value.encode('utf-8', 'surrogatepass'))}" for key, value in params.items())


def nested(depth: int, kind: str) -> bytes:
    return (b"[" * depth + b"]" * depth) if kind == "array" else (b'{"a":' * depth + b"1" + b"}" * depth)


raw_bodies = st.one_of(
    st.builds(nested, st.integers(min_value=1, max_value=30_000), st.sampled_from(["array", "object"])),
    st.integers(min_value=4_301, max_value=20_000).map(lambda digits: b'{"name": ' + b"9" * digits + b"}"),
    st.binary(max_size=200),
    st.sampled_from(
        [b"", b"null", b"[]", b'"x"', b"NaN", b"1e99999", b'{"a": 1, "a": 2}', b"\xef\xbb\xbf{}"]
    ),
    st.sampled_from([b'{"cancel_token": "\\ud800"}', b'{"practitioner_id": "\\udfff"}']),
)
