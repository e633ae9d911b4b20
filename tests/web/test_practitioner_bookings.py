"""A practitioner's bookings (issue 15 item 2), over the fakes and SQLite: GET /api/me/bookings and
one booking by id through their API token, and the page /practitioner/bookings through their
session; another practitioner's bookings stay out of sight."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, ManualClock
from booking_web.settings import Settings
from tests.web.practitioner_sign_in import HTML, api_token, bearer, sign_in, with_emails
from tests.web.test_api import book

MONDAY = "2030-01-14"  # a week after the clock's "now"
NINE, ELEVEN = "2030-01-14T09:00:00+01:00", "2030-01-14T11:00:00+01:00"


def _paid(client: TestClient, gateway: FakePaymentGateway, booking: dict[str, Any]) -> None:
    payload, headers = gateway.sign(gateway.pay(booking["checkout_session_id"]))
    assert client.post("/api/webhooks/stripe", content=payload, headers=headers).status_code == 200


@pytest.fixture
def booked(client: TestClient, gateway: FakePaymentGateway) -> dict[str, dict[str, Any]]:
    """Jane: a paid session at 11:00 and an unpaid hold at 09:00 on MONDAY; Sam: one of his own."""
    with_emails(client)
    late = book(client, ELEVEN, name="Bo Client", email="bo@example.com", phone="+49 30 7654321").json()
    _paid(client, gateway, late)
    early = book(client, NINE).json()
    sams_slot = client.get(
        "/api/practitioners/sam-lee/availability", params={"start": MONDAY, "end": MONDAY}
    ).json()["slots"][0]["start"]
    sams = book(client, sams_slot, practitioner_id="sam-lee", name="Cy Sam", email="cy@example.com").json()
    return {"early": early, "late": late, "sams": sams}


def _mine(client: TestClient, **params: str) -> Any:
    token = api_token(client, "jane-doe")
    return client.get("/api/me/bookings", params=params, headers=bearer(token))


def test_the_practitioners_bookings_by_start_in_their_time_zone(
    client: TestClient, booked: dict[str, dict[str, Any]]
) -> None:
    answer = _mine(client, start=MONDAY, end=MONDAY)
    assert answer.status_code == 200
    bookings = answer.json()["bookings"]
    assert [b["id"] for b in bookings] == [booked["early"]["id"], booked["late"]["id"]]
    early, late = bookings
    assert (early["start"], early["end"]) == (NINE, "2030-01-14T09:50:00+01:00")
    assert early["status"] == "pending_payment" and early["paid"] is None
    assert late["client"] == {"name": "Bo Client", "email": "bo@example.com", "phone": "+49307654321"}
    assert late["status"] == "confirmed"
    assert late["paid"] == {"amount": 9000, "currency": "EUR", "formatted": "90.00 EUR"}
    assert late["price"]["amount"] == 9000 and late["refunded"] is None
    assert late["service"] == {"id": "session", "name": "Session", "minutes": 50}
    assert late["created_at"] == "2030-01-07T09:00:00+01:00"  # the clock's now, in Berlin


def test_the_days_are_whole_local_days(client: TestClient, booked: dict[str, dict[str, Any]]) -> None:
    assert _mine(client, start="2030-01-13", end="2030-01-13").json()["bookings"] == []
    assert len(_mine(client, start="2030-01-10", end="2030-01-20").json()["bookings"]) == 2


def test_by_status(client: TestClient, booked: dict[str, dict[str, Any]]) -> None:
    confirmed = _mine(client, start=MONDAY, end=MONDAY, status="confirmed").json()["bookings"]
    assert [b["id"] for b in confirmed] == [booked["late"]["id"]]
    both = _mine(client, start=MONDAY, end=MONDAY, status="confirmed,pending_payment").json()["bookings"]
    assert len(both) == 2
    assert _mine(client, start=MONDAY, end=MONDAY, status="cancelled").json()["bookings"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "14.01.2030", "end": MONDAY}, "start"),
        ({"start": MONDAY, "end": "soon"}, "end"),
        ({"end": MONDAY}, "start"),
        ({"start": MONDAY}, "end"),
        ({"start": MONDAY, "end": "2030-01-13"}, "end"),
        ({"start": MONDAY, "end": "2030-03-31"}, "end"),  # over 62 days
        ({"start": MONDAY, "end": MONDAY, "status": "paid"}, "status"),
    ],
    ids=["bad start", "bad end", "no start", "no end", "end first", "too long", "unknown status"],
)
def test_a_bad_query_is_422_naming_the_field(
    client: TestClient, booked: dict[str, dict[str, Any]], params: dict[str, str], field: str
) -> None:
    answer = _mine(client, **params)
    assert answer.status_code == 422
    assert list(answer.json()["error"]["fields"]) == [field]


def test_one_booking_by_id_and_another_practitioners_is_not_found(
    client: TestClient, booked: dict[str, dict[str, Any]]
) -> None:
    token = bearer(api_token(client, "jane-doe"))
    own = client.get(f"/api/me/bookings/{booked['late']['id']}", headers=token)
    assert own.status_code == 200
    assert own.json()["client"]["email"] == "bo@example.com"
    theirs = client.get(f"/api/me/bookings/{booked['sams']['id']}", headers=token)
    unknown = client.get("/api/me/bookings/no-such-id", headers=token)
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json()
    listed = _mine(client, start=MONDAY, end=MONDAY).json()["bookings"]
    assert booked["sams"]["id"] not in {b["id"] for b in listed}


def test_without_a_token_nothing_is_listed(client: TestClient, booked: dict[str, dict[str, Any]]) -> None:
    answer = client.get("/api/me/bookings", params={"start": MONDAY, "end": MONDAY})
    assert answer.status_code == 401
    assert client.get(f"/api/me/bookings/{booked['late']['id']}").status_code == 401


# -- the page ---------------------------------------------------------------------------------------


def test_the_page_shows_a_week_of_sessions_with_contact_status_and_payment(
    client: TestClient, booked: dict[str, dict[str, Any]], settings: Settings
) -> None:
    sign_in(client, settings.mailbox_dir)
    this_week = client.get("/practitioner/bookings", headers=HTML)
    assert this_week.status_code == 200
    assert "Bo Client" not in this_week.text  # the sessions are next week
    assert 'href="?week=2030-01-14"' in this_week.text
    page = client.get("/practitioner/bookings", params={"week": MONDAY}, headers=HTML).text
    late = page.index("Bo Client")
    assert page.index("Ann Example") < late  # by start
    assert "11:00&ndash;11:50" in page and "mailto:bo@example.com" in page and "+49307654321" in page
    assert "Confirmed" in page[late:] and "Paid 90.00 EUR" in page[late:]
    assert "Awaiting payment" in page and "Not paid yet" in page
    assert "Session with Bo Client" in page
    assert "Cy Sam" not in page  # Sam's client


def test_past_sessions_of_this_week_show_on_request(
    client: TestClient, booked: dict[str, dict[str, Any]], settings: Settings, clock: ManualClock
) -> None:
    clock.set(datetime(2030, 1, 14, 9, 0, tzinfo=UTC))  # 10:00 in Berlin: the 09:00 session is over
    sign_in(client, settings.mailbox_dir)
    page = client.get("/practitioner/bookings", headers=HTML).text
    assert "Bo Client" in page and "Ann Example" not in page
    assert "Show 1 earlier session of this week" in page
    past = client.get("/practitioner/bookings", params={"past": "1"}, headers=HTML).text
    assert "Ann Example" in past and "(over)" in past
    earlier = client.get("/practitioner/bookings", params={"week": "2030-01-07"}, headers=HTML)
    assert earlier.status_code == 200 and "No sessions" in earlier.text


def test_the_page_needs_a_session(client: TestClient) -> None:
    answer = client.get("/practitioner/bookings", headers=HTML, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/practitioner/login")
