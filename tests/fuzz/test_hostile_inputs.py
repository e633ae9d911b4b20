"""Hypothesis-made hostile requests against the API and the pages, over the fakes and the embedded
default: never a 5xx, every error in the one shape naming the offending field, and nothing stored
for a request that was refused."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core import zone
from tests.fuzz.hostile import (
    date_times,
    dates,
    hostile_text,
    json_bytes,
    query_string,
    raw_bodies,
    timezones,
    wrong_type,
)
from tests.fuzz.stacks import CLIENT, HTML, Stack, hidden_fields

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON = {"content-type": "application/json"}
BOOKING_FIELDS = ("practitioner_id", "start", "name", "email", "phone", "timezone")
MARKUP_START = re.compile(r"<[A-Za-z!/?]")


def error_of(response: httpx.Response, *statuses: int) -> dict[str, object]:
    """The error of a refused request, checked against the one shape."""
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, object] = body["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]
    assert set(error) <= {"code", "message", "fields"}  # no id: only a 500 has one
    return error


def assert_not_echoed_raw(value: str, html: str, baseline: str) -> None:
    """Markup a visitor sent appears no more often than on the page without it: echoed, it is escaped."""
    if MARKUP_START.search(value):  # could open a tag if shown raw
        assert html.count(value) <= baseline.count(value), value


@given(data=st.data())
@FUZZ
def test_hostile_booking_fields_are_refused_in_shape_and_store_nothing(
    stack: Stack, data: st.DataObject
) -> None:
    starts = stack.free_starts()
    valid: dict[str, st.SearchStrategy[object]] = {
        "practitioner_id": st.sampled_from(["jane-doe", "sam-lee"]),
        # An index, not the list itself: the free slots shrink as examples book them.
        "start": st.integers(min_value=0, max_value=500).map(lambda i: starts[i % len(starts)]),
        "name": st.just(CLIENT["name"]),
        "email": st.just(CLIENT["email"]),
        "phone": st.just(CLIENT["phone"]),
        "timezone": st.sampled_from(["Europe/Berlin", "Asia/Tokyo"]),
    }
    body: dict[str, object] = {}
    mistyped, missing = set(), set()
    for field in BOOKING_FIELDS:
        kind = data.draw(st.sampled_from(["valid", "hostile", "wrong type", "missing"]), label=field)
        if kind == "missing":
            missing.add(field)
        elif kind == "wrong type":
            value = data.draw(wrong_type, label=field)
            if value is None and field == "timezone":
                continue  # null is a valid "no time zone"
            body[field] = value
            mistyped.add(field)
        else:
            strategy = date_times if field == "start" else hostile_text
            body[field] = data.draw(valid[field] if kind == "valid" else strategy, label=field)
    before = stack.snapshot()

    response = stack.client.post("/api/bookings", content=json_bytes(body), headers=JSON)

    if response.status_code == 201:
        assert not mistyped and not (missing - {"timezone"})
        assert response.json()["status"] == "pending_payment"
        return
    error = error_of(response, 404, 409, 422)
    assert stack.snapshot() == before
    required_missing = missing - {"timezone"}
    if mistyped or required_missing:
        assert response.status_code == 422
        assert mistyped | required_missing <= set(error["fields"])  # type: ignore[arg-type]
    if response.status_code == 422:
        assert error["fields"] and set(error["fields"]) <= {*BOOKING_FIELDS, "body"}  # type: ignore[arg-type]


@given(body=raw_bodies, route=st.sampled_from(["/api/bookings", "/api/bookings/{id}/cancel"]))
@FUZZ
def test_bodies_that_are_not_the_expected_json_are_400_or_422(stack: Stack, body: bytes, route: str) -> None:
    path = route.format(id=stack.book()["id"]) if "{id}" in route else route
    before = stack.snapshot()
    response = stack.client.post(path, content=body, headers=JSON)
    error = error_of(response, 400, 413, 422)
    if response.status_code == 422:
        assert error["fields"]
    assert stack.snapshot() == before


@given(
    extra=st.integers(min_value=1, max_value=200_000),
    path=st.sampled_from(
        [
            "/api/bookings",
            "/api/bookings/x/cancel",
            "/api/webhooks/stripe",
            "/book/jane-doe",
            "/booking/x/cancel",
        ]
    ),
    announced=st.booleans(),
)
@settings(FUZZ, max_examples=15)
def test_bodies_over_the_limit_are_413_whatever_the_route(
    stack: Stack, extra: int, path: str, announced: bool
) -> None:
    limit: int = stack.client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    body = b"a" * (limit + extra)
    before = stack.snapshot()
    content = body if announced else iter([body[:limit], body[limit:]])  # no Content-Length: streamed
    response = stack.client.post(path, content=content, headers=JSON)
    if announced:
        assert error_of(response, 413)["code"] == "body_too_large"
    else:  # counted as it arrives: 413 once read past the limit; a form route refuses JSON unread
        assert response.status_code in (403, 404, 413), response.status_code
    assert stack.snapshot() == before


@given(
    start=dates,
    end=dates,
    timezone=timezones,
    practitioner=st.sampled_from(["jane-doe", "sam-lee", "nobody"]),
)
@FUZZ
def test_availability_queries_with_absurd_ranges_zones_and_dates(
    stack: Stack, start: str, end: str, timezone: str, practitioner: str
) -> None:
    params = {"start": start, "end": end, "timezone": timezone}
    url = f"/api/practitioners/{practitioner}/availability?{query_string(params)}"
    response = stack.client.get(url)
    if response.status_code != 200:
        error = error_of(response, 404, 422)
        if response.status_code == 422:
            assert error["fields"] and set(error["fields"]) <= set(params)  # type: ignore[arg-type]
        return
    answer = response.json()
    tz = zone(answer["timezone"])
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    assert last - first <= timedelta(days=62)
    for slot in answer["slots"]:
        slot_start, slot_end = datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"])
        assert slot_start < slot_end and first <= slot_start.astimezone(tz).date() <= last
        assert slot_start.utcoffset() == slot_start.astimezone(tz).utcoffset()  # shown in the zone asked


def test_availability_across_dst_changes_keeps_every_slot_whole(stack: Stack) -> None:
    """Weeks around the changes of 2030 in the zones asked: each slot is its full length in real time."""
    for timezone in ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe"):
        for first in ("2030-03-08", "2030-03-29", "2030-10-25", "2030-11-01", "2030-04-05"):
            params = {
                "start": first,
                "end": str(date.fromisoformat(first) + timedelta(days=6)),
                "timezone": timezone,
            }
            response = stack.client.get("/api/practitioners/sam-lee/availability", params=params)
            assert response.status_code == 200, response.text
            for slot in response.json()["slots"]:
                length = datetime.fromisoformat(slot["end"]) - datetime.fromisoformat(slot["start"])
                assert length == timedelta(minutes=30)


# -- the pages --------------------------------------------------------------------------------------


@given(
    values=st.fixed_dictionaries(
        {name: hostile_text for name in ("name", "email", "phone")},
        optional={"start": date_times, "tz": timezones, "week": dates, "request_key": hostile_text},
    )
)
@FUZZ
def test_hostile_form_posts_never_fail_and_echo_markup_escaped(stack: Stack, values: dict[str, str]) -> None:
    page = stack.client.get("/book/jane-doe", headers=HTML)
    form = hidden_fields(page.text) | {
        k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k, v in values.items()
    }
    before = stack.snapshot()
    response = stack.client.post("/book/jane-doe", data=form, headers=HTML, follow_redirects=False)
    assert response.status_code in (303, 409, 422), response.status_code
    if response.status_code != 303:
        assert stack.snapshot() == before
        for value in form.values():
            assert_not_echoed_raw(value, response.text, page.text)


@given(tz=timezones, week=dates)
@FUZZ
def test_the_booking_page_takes_any_week_and_zone(stack: Stack, tz: str, week: str) -> None:
    plain = stack.client.get("/book/jane-doe", headers=HTML).text
    response = stack.client.get(f"/book/jane-doe?{query_string({'tz': tz, 'week': week})}", headers=HTML)
    assert response.status_code in (200, 422), response.status_code
    for value in (tz, week):
        assert_not_echoed_raw(value, response.text, plain)


@pytest.mark.parametrize(
    "query",
    [
        {"booking": "\ud800"},
        {"booking": "<script>"},
        {"booking": "' OR 1=1 --"},
        {"session_id": "é", "booking": "{id}"},
        {"session_id": "\u202e", "booking": "{id}"},
        {"session_id": "<b>x</b>", "booking": "{id}"},
    ],
)
def test_the_pages_checkout_returns_to_take_any_query(stack: Stack, query: dict[str, str]) -> None:
    """Regression: a non-ASCII session_id on the success page raised TypeError in compare_digest (500)."""
    booking_id = str(stack.book()["id"])
    params = {key: value.replace("{id}", booking_id) for key, value in query.items()}
    for page in ("/booking/success", "/booking/cancelled"):
        response = stack.client.get(f"{page}?{query_string(params)}", headers=HTML)
        assert response.status_code in (200, 404), (page, response.status_code)
        assert "<script>" not in response.text and "<b>x</b>" not in response.text
