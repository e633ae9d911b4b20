"""The practitioner's time off through the JSON API (issue 15 item 4), over the fakes and SQLite:
whole local days or a range, gone from the availability at once and back when removed, refused over
live bookings with the ids in the way, and only ever the token holder's own."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from booking_core import MAX_TIME_OFF_NOTE
from tests.web.practitioner_sign_in import api_token, bearer
from tests.web.test_api import MONDAY, book, first_slot

TUESDAY = "2030-01-15"


@pytest.fixture
def jane(client: TestClient) -> dict[str, str]:
    return bearer(api_token(client, "jane-doe"))


def slots(client: TestClient, day: str = MONDAY) -> list[str]:
    answer = client.get("/api/practitioners/jane-doe/availability", params={"start": day, "end": day})
    assert answer.status_code == 200, answer.text
    return [slot["start"] for slot in answer.json()["slots"]]


def take(client: TestClient, headers: dict[str, str], **body: str) -> Any:
    return client.post("/api/me/time-off", json=body, headers=headers)


def test_a_whole_day_off_leaves_the_availability_at_once(client: TestClient, jane: dict[str, str]) -> None:
    assert slots(client)  # asked before: the answer may be cached
    taken = take(client, jane, start=MONDAY, end=MONDAY, note="Day off")
    assert taken.status_code == 201, taken.text
    body = taken.json()
    assert body == {
        "id": body["id"],
        "start": "2030-01-14T00:00:00+01:00",  # the practitioner's midnights
        "end": "2030-01-15T00:00:00+01:00",
        "note": "Day off",
    }
    assert taken.headers["Location"] == f"/api/me/time-off/{body['id']}"
    assert slots(client) == []
    assert slots(client, TUESDAY)


def test_a_range_with_offsets_is_answered_in_the_practitioners_zone(
    client: TestClient, jane: dict[str, str]
) -> None:
    before = slots(client)
    taken = take(client, jane, start="2030-01-14T10:00:00Z", end="2030-01-14T12:00:00+01:00").json()
    assert (taken["start"], taken["end"], taken["note"]) == (
        "2030-01-14T11:00:00+01:00",
        "2030-01-14T12:00:00+01:00",
        "",
    )
    assert [start for start in before if not "T11:" <= start[10:14] < "T12:"] == slots(client)


def test_listed_not_yet_over_and_removed_by_id(client: TestClient, jane: dict[str, str]) -> None:
    tuesday = take(client, jane, start=TUESDAY, end=TUESDAY).json()
    monday = take(client, jane, start=MONDAY, end=MONDAY).json()
    assert client.get("/api/me/time-off", headers=jane).json() == {"time_off": [monday, tuesday]}
    removed = client.delete(f"/api/me/time-off/{monday['id']}", headers=jane)
    assert removed.status_code == 204
    assert slots(client)  # offered again
    assert client.get("/api/me/time-off", headers=jane).json() == {"time_off": [tuesday]}
    again = client.delete(f"/api/me/time-off/{monday['id']}", headers=jane)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_found"


def test_another_practitioners_time_off_is_not_yours(client: TestClient, jane: dict[str, str]) -> None:
    sam = bearer(api_token(client, "sam-lee"))
    janes = take(client, jane, start=MONDAY, end=MONDAY).json()
    assert client.get("/api/me/time-off", headers=sam).json() == {"time_off": []}
    assert client.delete(f"/api/me/time-off/{janes['id']}", headers=sam).status_code == 404
    assert client.get("/api/me/time-off", headers=jane).json() == {"time_off": [janes]}


def test_time_off_over_live_bookings_is_refused_naming_them(client: TestClient, jane: dict[str, str]) -> None:
    booked = book(client, first_slot(client))
    assert booked.status_code == 201, booked.text
    refused = take(client, jane, start=MONDAY, end=TUESDAY)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "time_off_conflicts"
    assert error["booking_ids"] == [booked.json()["id"]]
    assert booked.json()["id"] in error["message"]
    assert client.get("/api/me/time-off", headers=jane).json() == {"time_off": []}
    assert take(client, jane, start=TUESDAY, end=TUESDAY).status_code == 201  # the next day is free


def test_a_slot_inside_time_off_cannot_be_booked(client: TestClient, jane: dict[str, str]) -> None:
    start = first_slot(client)
    take(client, jane, start=MONDAY, end=MONDAY)
    refused = book(client, start)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "slot_unavailable"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"start": "2030-01-14", "end": "tomorrow"}, {"end"}),
        ({"start": "2030-01-14T09:00:00", "end": "2030-01-14"}, {"start"}),  # no offset
        ({"start": "2030-02-30", "end": "2030-03-01"}, {"start"}),
        ({"start": "2030-01-15", "end": "2030-01-14"}, {"end"}),
        ({"start": "2030-01-14T12:00:00+01:00", "end": "2030-01-14T12:00:00+01:00"}, {"end"}),
        ({"start": "2029-01-01", "end": "2029-01-02"}, {"end"}),  # over before it starts
        ({"start": "2030-01-14", "end": "2030-01-14", "note": "x" * (MAX_TIME_OFF_NOTE + 1)}, {"note"}),
        ({"start": "2030-01-14"}, {"end"}),
        ({"start": 20300114, "end": "2030-01-14"}, {"start"}),
    ],
)
def test_what_is_refused_names_the_field(
    memory_client: TestClient, body: dict[str, Any], fields: set[str]
) -> None:
    headers = bearer(api_token(memory_client, "jane-doe"))
    refused = memory_client.post("/api/me/time-off", json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    assert set(refused.json()["error"]["fields"]) == fields
    assert memory_client.get("/api/me/time-off", headers=headers).json() == {"time_off": []}


def test_without_a_valid_token_nothing_is_read_or_changed(memory_client: TestClient) -> None:
    jane = bearer(api_token(memory_client, "jane-doe"))
    taken = take(memory_client, jane, start=MONDAY, end=MONDAY).json()
    for headers in ({}, bearer("not-a-token")):
        answers = [
            memory_client.get("/api/me/time-off", headers=headers),
            take(memory_client, headers, start=TUESDAY, end=TUESDAY),
            memory_client.delete(f"/api/me/time-off/{taken['id']}", headers=headers),
        ]
        assert [a.status_code for a in answers] == [401, 401, 401]
        assert {a.json()["error"]["code"] for a in answers} == {"unauthenticated"}
    assert memory_client.get("/api/me/time-off", headers=jane).json() == {"time_off": [taken]}
