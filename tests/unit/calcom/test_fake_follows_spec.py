"""The fake Cal.com answers as the published OpenAPI excerpt says (tests/specs/calcom/)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from booking_adapters.testing.fake_calcom import FAKE_API_KEY, FakeCalcom
from tests.contract.availability_fixtures import EVENT_TYPE_ID, MONDAY, fake_calcom

SPEC = Path(__file__).resolve().parents[2] / "specs" / "calcom" / "calcom-v2-slots-bookings.openapi.json"
SLOTS_HEADERS = {"Authorization": f"Bearer {FAKE_API_KEY}", "cal-api-version": "2024-09-04"}
BOOKINGS_HEADERS = {"Authorization": f"Bearer {FAKE_API_KEY}", "cal-api-version": "2024-08-13"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SPEC.read_text())
    return document


def schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    """A component schema, resolvable: its $refs point into the document's components."""
    return {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}


def slots_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """The envelope around the spec's own range-format slot items. The spec puts the day map at
    the top level and claims strings in the default format, while its examples (and Cal.com)
    send `{"status", "data": {day: [{start, end}]}}`: validate that, with the spec's item schema."""
    variants = spec["paths"]["/v2/slots"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    ranged = next(v for v in variants["oneOf"] if "range" in v["title"])
    items = ranged["additionalProperties"]["items"]
    return {
        "type": "object",
        "required": ["status", "data"],
        "properties": {
            "status": {"const": "success"},
            "data": {
                "type": "object",
                "propertyNames": {"pattern": r"^\d{4}-\d{2}-\d{2}$"},
                "additionalProperties": {
                    "type": "array",
                    "items": {**items, "required": ["start", "end"], "additionalProperties": False},
                },
            },
        },
        "x-example": ranged["example"],
    }


@pytest.fixture
def fake() -> FakeCalcom:
    return fake_calcom()


@pytest.fixture
async def http(fake: FakeCalcom) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake.app()), base_url="http://calcom.test"
    ) as client:
        yield client


def test_the_derived_slots_schema_accepts_the_spec_example(spec: dict[str, Any]) -> None:
    derived = slots_schema(spec)
    jsonschema.validate(derived["x-example"], derived)


@pytest.mark.anyio
async def test_slots_in_range_format_match_the_spec(spec: dict[str, Any], http: httpx.AsyncClient) -> None:
    query = {
        "eventTypeId": EVENT_TYPE_ID,
        "start": "2030-01-07T00:00:00Z",
        "end": "2030-01-09T00:00:00Z",
        "timeZone": "Europe/Berlin",
        "format": "range",
    }
    response = await http.get("/v2/slots", params=query, headers=SLOTS_HEADERS)

    assert response.status_code == 200
    body = response.json()
    jsonschema.validate(body, slots_schema(spec))
    assert body["data"]["2030-01-07"][0] == {
        "start": "2030-01-07T09:00:00.000+01:00",
        "end": "2030-01-07T09:50:00.000+01:00",
    }


@pytest.mark.anyio
async def test_booking_lifecycle_responses_match_the_spec(
    spec: dict[str, Any], fake: FakeCalcom, http: httpx.AsyncClient
) -> None:
    request = {
        "start": "2030-01-07T08:00:00Z",
        "eventTypeId": EVENT_TYPE_ID,
        "attendee": {"name": "Ann", "email": "ann@example.com", "timeZone": "Europe/Paris"},
        "metadata": {"bookingId": "bk1"},
    }
    jsonschema.validate(request, schema(spec, "CreateBookingInput_2024_08_13"))

    created = await http.post("/v2/bookings", json=request, headers=BOOKINGS_HEADERS)
    assert created.status_code == 201
    jsonschema.validate(created.json(), schema(spec, "CreateBookingOutput_2024_08_13"))
    uid = created.json()["data"]["uid"]

    fetched = await http.get(f"/v2/bookings/{uid}", headers=BOOKINGS_HEADERS)
    jsonschema.validate(fetched.json(), schema(spec, "GetBookingOutput_2024_08_13"))

    listed = await http.get("/v2/bookings", params={"eventTypeId": EVENT_TYPE_ID}, headers=BOOKINGS_HEADERS)
    jsonschema.validate(listed.json(), schema(spec, "GetBookingsOutput_2024_08_13"))
    assert [b["uid"] for b in listed.json()["data"]] == [uid]

    cancel = {"cancellationReason": "Client cancelled"}
    jsonschema.validate(cancel, schema(spec, "CancelBookingInput_2024_08_13"))
    cancelled = await http.post(f"/v2/bookings/{uid}/cancel", json=cancel, headers=BOOKINGS_HEADERS)
    assert cancelled.status_code == 200
    jsonschema.validate(cancelled.json(), schema(spec, "CancelBookingOutput_2024_08_13"))
    assert fake.bookings[uid]["status"] == "cancelled"


@pytest.mark.anyio
async def test_a_reschedule_matches_the_spec_and_makes_a_new_booking_linked_to_the_old(
    spec: dict[str, Any], fake: FakeCalcom, http: httpx.AsyncClient
) -> None:
    old = fake.book_directly(EVENT_TYPE_ID, MONDAY + timedelta(hours=8), {"bookingId": "bk1"})
    # later the same day, overlapping the booking's own time: only the booking itself is in the way
    move = {"start": "2030-01-07T08:30:00Z", "reschedulingReason": "Client asked"}
    jsonschema.validate(move, schema(spec, "RescheduleBookingInput_2024_08_13"))
    fake.event_types[EVENT_TYPE_ID].step = timedelta(minutes=30)

    moved = await http.post(f"/v2/bookings/{old}/reschedule", json=move, headers=BOOKINGS_HEADERS)

    assert moved.status_code == 201
    jsonschema.validate(moved.json(), schema(spec, "RescheduleBookingOutput_2024_08_13"))
    new = moved.json()["data"]
    assert new["uid"] != old and new["start"] == "2030-01-07T08:30:00.000+00:00"
    assert (new["rescheduledFromUid"], new["metadata"]) == (old, {"bookingId": "bk1"})
    assert (fake.bookings[old]["status"], fake.bookings[old]["rescheduledToUid"]) == ("cancelled", new["uid"])
    again = await http.post(f"/v2/bookings/{old}/reschedule", json=move, headers=BOOKINGS_HEADERS)
    assert again.status_code == 400  # the old booking is cancelled: it moves no more
    fake.book_directly(EVENT_TYPE_ID, MONDAY + timedelta(hours=10))
    taken = {"start": "2030-01-07T10:00:00Z"}
    refused = await http.post(f"/v2/bookings/{new['uid']}/reschedule", json=taken, headers=BOOKINGS_HEADERS)
    assert refused.status_code == 400 and "already has booking" in refused.json()["error"]["message"]


@pytest.mark.anyio
async def test_reservations_match_the_spec_and_hold_the_slot(
    spec: dict[str, Any], http: httpx.AsyncClient
) -> None:
    request = {"eventTypeId": EVENT_TYPE_ID, "slotStart": "2030-01-07T08:00:00Z", "reservationDuration": 10}
    jsonschema.validate(request, schema(spec, "ReserveSlotInput_2024_09_04"))

    reserved = await http.post("/v2/slots/reservations", json=request, headers=SLOTS_HEADERS)
    assert reserved.status_code == 201
    jsonschema.validate(reserved.json(), schema(spec, "ReserveSlotOutputResponse_2024_09_04"))

    booking = {
        "start": "2030-01-07T08:00:00Z",
        "eventTypeId": EVENT_TYPE_ID,
        "attendee": {"name": "B", "timeZone": "UTC"},
    }
    assert (await http.post("/v2/bookings", json=booking, headers=BOOKINGS_HEADERS)).status_code == 409

    uid = reserved.json()["data"]["reservationUid"]
    assert (await http.delete(f"/v2/slots/reservations/{uid}", headers=SLOTS_HEADERS)).json() == {
        "status": "success"
    }
    assert (await http.post("/v2/bookings", json=booking, headers=BOOKINGS_HEADERS)).status_code == 201


@pytest.mark.anyio
async def test_a_taken_slot_is_refused_and_no_longer_offered(
    fake: FakeCalcom, http: httpx.AsyncClient
) -> None:
    fake.book_directly(EVENT_TYPE_ID, MONDAY + timedelta(hours=8))
    booking = {
        "start": "2030-01-07T08:00:00Z",
        "eventTypeId": EVENT_TYPE_ID,
        "attendee": {"name": "B", "timeZone": "UTC"},
    }

    refused = await http.post("/v2/bookings", json=booking, headers=BOOKINGS_HEADERS)

    assert refused.status_code == 400
    assert refused.json()["status"] == "error"
    assert "already has booking" in refused.json()["error"]["message"]
    query = {"eventTypeId": EVENT_TYPE_ID, "start": "2030-01-07", "end": "2030-01-07", "format": "range"}
    day = (await http.get("/v2/slots", params=query, headers=SLOTS_HEADERS)).json()["data"]["2030-01-07"]
    assert "2030-01-07T08:00:00.000+00:00" not in [slot["start"] for slot in day]


@pytest.mark.anyio
async def test_a_booking_being_rescheduled_does_not_take_its_own_time(
    spec: dict[str, Any], fake: FakeCalcom, http: httpx.AsyncClient
) -> None:
    """`bookingUidToReschedule` (a query parameter of GET /v2/slots in the spec): that booking's
    time is offered, so it may move by less than its length; others' bookings still take theirs."""
    parameters = spec["paths"]["/v2/slots"]["get"]["parameters"]
    assert {"name": "bookingUidToReschedule", "in": "query"}.items() <= next(
        p for p in parameters if p["name"] == "bookingUidToReschedule"
    ).items()
    fake.event_types[EVENT_TYPE_ID].step = timedelta(minutes=30)
    moving = fake.book_directly(EVENT_TYPE_ID, MONDAY + timedelta(hours=8))  # 09:00 Berlin
    fake.book_directly(EVENT_TYPE_ID, MONDAY + timedelta(hours=10))  # 11:00 Berlin
    query = {
        "eventTypeId": EVENT_TYPE_ID,
        "start": "2030-01-07",
        "end": "2030-01-07",
        "timeZone": "Europe/Berlin",
        "format": "range",
    }

    async def starts(**more: str) -> list[str]:
        response = await http.get("/v2/slots", params=query | more, headers=SLOTS_HEADERS)
        jsonschema.validate(response.json(), slots_schema(spec))
        return [slot["start"][11:16] for slot in response.json()["data"]["2030-01-07"]]

    # 09:00-09:50 and 11:00-11:50 are booked: of the morning's half-hourly starts, 10:00 is free
    assert await starts() == ["10:00", "13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00"]
    moved = await starts(bookingUidToReschedule=moving)
    assert moved[:4] == ["09:00", "09:30", "10:00", "13:00"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"cal-api-version": "2024-09-04"}, 401),
        ({"Authorization": "Bearer cal_wrong", "cal-api-version": "2024-09-04"}, 401),
        ({"Authorization": f"Bearer {FAKE_API_KEY}", "cal-api-version": "2024-08-13"}, 400),
    ],
)
@pytest.mark.anyio
async def test_errors_have_the_v2_error_shape(
    http: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    response = await http.get(
        "/v2/slots",
        params={"eventTypeId": EVENT_TYPE_ID, "start": "2030-01-07", "end": "2030-01-08"},
        headers=headers,
    )

    assert response.status_code == status
    assert response.json()["status"] == "error"
    assert response.json()["error"]["message"]


@pytest.mark.anyio
async def test_switches_answer_429_500_and_garbage_for_the_next_requests(
    fake: FakeCalcom, http: httpx.AsyncClient
) -> None:
    fake.rate_limit_next, fake.retry_after_seconds, fake.error_500_next, fake.malformed_next = 1, 7, 1, 1
    query = {"eventTypeId": EVENT_TYPE_ID, "start": "2030-01-07", "end": "2030-01-08"}

    limited = await http.get("/v2/slots", params=query, headers=SLOTS_HEADERS)
    failed = await http.get("/v2/slots", params=query, headers=SLOTS_HEADERS)
    garbled = await http.get("/v2/slots", params=query, headers=SLOTS_HEADERS)
    fine = await http.get("/v2/slots", params=query, headers=SLOTS_HEADERS)

    assert (limited.status_code, limited.headers["retry-after"]) == (429, "7")
    assert failed.status_code == 500
    with pytest.raises(ValueError, match="Expecting"):
        garbled.json()
    assert fine.status_code == 200
    assert fake.calls["/v2/slots"] == 4


BY_UID = [("GET", ""), ("POST", "/cancel"), ("POST", "/reschedule")]


@pytest.mark.parametrize(("method", "suffix"), BY_UID, ids=["get", "cancel", "reschedule"])
@pytest.mark.anyio
async def test_a_booking_by_uid_is_gated_then_looked_up(
    fake: FakeCalcom, http: httpx.AsyncClient, method: str, suffix: str
) -> None:
    known = fake.book_directly(EVENT_TYPE_ID, MONDAY + timedelta(hours=8))
    move = {"start": "2030-01-07T09:00:00Z"}

    unknown = await http.request(method, f"/v2/bookings/nope{suffix}", json=move, headers=BOOKINGS_HEADERS)
    wrong_key = {**BOOKINGS_HEADERS, "Authorization": "Bearer cal_wrong"}
    unauthorised = await http.request(method, f"/v2/bookings/{known}{suffix}", json=move, headers=wrong_key)

    assert unknown.status_code == 404
    assert unknown.json()["error"] == {"code": "NotFoundException", "message": "Booking not found"}
    assert unauthorised.status_code == 401
    assert fake.bookings[known]["status"] == "accepted"  # refused before anything changed
