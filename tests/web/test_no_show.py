"""No-shows (issue 17 item 2), over the fakes and SQLite, on the bookings test_practitioner_cancel
makes (Jane's paid session at 11:00 and hold at 09:00, a hold of Sam's): POST
/api/me/bookings/{id}/no-show marks one from the session's end until 7 days after, DELETE takes it
back (the session counts as completed); the bookings page has a CSRF-protected button for each.
Refusals: 404 for another practitioner's booking, 409 with its code before the end, after the
window, or for a booking that was never a held session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, ManualClock
from booking_web.settings import Settings
from tests.web.practitioner_sign_in import HTML, api_token, bearer, hidden_fields, sign_in
from tests.web.test_practitioner_cancel import book_the_day

MONDAY = "2030-01-14"
ELEVEN = "2030-01-14T11:00:00+01:00"
ELEVEN_ENDS = datetime(2030, 1, 14, 10, 50, tzinfo=UTC)  # 50 minutes, in UTC


@pytest.fixture
def booked(client: TestClient, gateway: FakePaymentGateway) -> dict[str, dict[str, Any]]:
    return book_the_day(client, gateway)


def _no_show(client: TestClient, booking_id: str, method: str = "POST", who: str = "jane-doe") -> Any:
    token = api_token(client, who)
    return client.request(method, f"/api/me/bookings/{booking_id}/no-show", headers=bearer(token))


def _status(client: TestClient, booking_id: str) -> str:
    status: str = client.get(f"/api/bookings/{booking_id}").json()["status"]
    return status


def test_a_no_show_is_marked_after_the_end_and_taken_back(
    client: TestClient, booked: dict[str, dict[str, Any]], clock: ManualClock
) -> None:
    clock.set(ELEVEN_ENDS - timedelta(minutes=1))
    early = _no_show(client, booked["late"]["id"])
    assert early.status_code == 409 and early.json()["error"]["code"] == "session_not_over"
    clock.set(ELEVEN_ENDS)
    marked = _no_show(client, booked["late"]["id"])
    assert marked.status_code == 200, marked.text
    assert marked.json()["status"] == "no_show" and marked.json()["start"] == ELEVEN
    assert _no_show(client, booked["late"]["id"]).json()["status"] == "no_show"  # a repeat changes nothing
    undone = _no_show(client, booked["late"]["id"], "DELETE")
    assert undone.status_code == 200 and undone.json()["status"] == "completed"
    token = api_token(client, "jane-doe")
    listed = client.get(
        "/api/me/bookings",
        params={"start": MONDAY, "end": MONDAY, "status": "completed"},
        headers=bearer(token),
    ).json()
    assert [b["id"] for b in listed["bookings"]] == [booked["late"]["id"]]


def test_after_seven_days_the_record_stands(
    client: TestClient, booked: dict[str, dict[str, Any]], clock: ManualClock
) -> None:
    clock.set(ELEVEN_ENDS + timedelta(days=7, seconds=1))
    for method in ("POST", "DELETE"):
        late = _no_show(client, booked["late"]["id"], method)
        assert late.status_code == 409 and late.json()["error"]["code"] == "no_show_window_closed"
        assert "7 days" in late.json()["error"]["message"]
    assert _status(client, booked["late"]["id"]) == "confirmed"


def test_only_ones_own_held_sessions_are_marked(
    client: TestClient, booked: dict[str, dict[str, Any]], clock: ManualClock
) -> None:
    clock.set(ELEVEN_ENDS + timedelta(hours=1))
    others = _no_show(client, booked["sams"]["id"])
    assert others.status_code == 404 and others.json()["error"]["code"] == "not_found"
    assert _no_show(client, booked["sams"]["id"], "DELETE").status_code == 404
    assert _status(client, booked["sams"]["id"]) != "no_show"
    unpaid = _no_show(client, booked["early"]["id"])  # a hold never paid: no session was held
    assert unpaid.status_code == 409 and unpaid.json()["error"]["code"] == "session_not_held"
    for headers in ({}, bearer("not-a-token")):
        answer = client.post(f"/api/me/bookings/{booked['late']['id']}/no-show", headers=headers)
        assert answer.status_code == 401
    assert _status(client, booked["late"]["id"]) == "confirmed"


def test_the_page_marks_and_takes_back_with_its_buttons(
    client: TestClient, booked: dict[str, dict[str, Any]], settings: Settings, clock: ManualClock
) -> None:
    clock.set(ELEVEN_ENDS - timedelta(hours=1))
    sign_in(client, settings.mailbox_dir)  # a session of 14 days: until after the window closes
    action = f"/practitioner/bookings/{booked['late']['id']}/no-show"
    ahead = client.get("/practitioner/bookings", params={"week": MONDAY}, headers=HTML).text
    assert action not in ahead  # not before the session is over
    clock.set(ELEVEN_ENDS + timedelta(hours=2))
    week = client.get("/practitioner/bookings", params={"week": MONDAY, "past": "1"}, headers=HTML).text
    assert action in week and "Mark as no-show" in week
    form = hidden_fields(week)
    done = client.post(action, data={"csrf_token": form["csrf_token"]}, headers=HTML, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (
        303,
        f"/practitioner/bookings?week={MONDAY}&past=1",
    )
    assert _status(client, booked["late"]["id"]) == "no_show"
    after = client.get(done.headers["location"], headers=HTML).text
    assert "No-show" in after and "Not a no-show: they came" in after
    undo = {"csrf_token": hidden_fields(after)["csrf_token"], "undo": "1"}
    assert client.post(action, data=undo, headers=HTML, follow_redirects=False).status_code == 303
    assert _status(client, booked["late"]["id"]) == "completed"
    forged = client.post(action, data={"csrf_token": "wrong"}, headers=HTML)
    assert forged.status_code == 403 and _status(client, booked["late"]["id"]) == "completed"
    clock.set(ELEVEN_ENDS + timedelta(days=8))
    closed = client.post(action, data={"csrf_token": hidden_fields(after)["csrf_token"]}, headers=HTML)
    assert closed.status_code == 409 and "7 days" in closed.text
    later = client.get("/practitioner/bookings", params={"week": MONDAY}, headers=HTML).text
    assert action not in later and "Completed" in later
