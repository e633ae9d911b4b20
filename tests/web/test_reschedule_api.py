"""Moving a booking over the JSON API (issue 16), over the fakes and SQLite: the client's
POST /api/bookings/{id}/reschedule with their cancel token, and the practitioner's
POST /api/me/bookings/{id}/reschedule with their API token. The booking keeps its id and payment;
the old time is offered again at once and the new one no longer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, ManualClock
from booking_web.app import create_app
from booking_web.settings import Settings
from tests.web.conftest import TEST_CLIENT_URL, memory_builder
from tests.web.practitioner_sign_in import api_token, bearer
from tests.web.test_api import book

MONDAY = "2030-01-14"  # a week after the clock's "now"
NINE, TEN, ELEVEN = "2030-01-14T09:00:00+01:00", "2030-01-14T10:00:00+01:00", "2030-01-14T11:00:00+01:00"
TUESDAY_TWO = "2030-01-15T14:00:00+01:00"


def _paid(client: TestClient, gateway: FakePaymentGateway, start: str, **overrides: Any) -> Any:
    made = book(client, start, **overrides)
    assert made.status_code == 201, made.text
    booking = made.json()
    payload, headers = gateway.sign(gateway.pay(booking["checkout_session_id"]))
    assert client.post("/api/webhooks/stripe", content=payload, headers=headers).status_code == 200
    return booking


def _move(client: TestClient, booking: dict[str, Any], start: str, token: str | None = None) -> Any:
    body = {"cancel_token": token or booking["cancel_token"], "start": start}
    return client.post(f"/api/bookings/{booking['id']}/reschedule", json=body)


def _starts(client: TestClient, day: str = MONDAY) -> list[str]:
    slots = client.get("/api/practitioners/jane-doe/availability", params={"start": day, "end": day})
    return [slot["start"] for slot in slots.json()["slots"]]


def test_the_client_moves_a_paid_booking_and_the_old_time_is_offered_again(
    client: TestClient, gateway: FakePaymentGateway
) -> None:
    booking = _paid(client, gateway, NINE)
    assert NINE not in _starts(client) and TUESDAY_TWO in _starts(client, "2030-01-15")  # now cached
    answer = _move(client, booking, TUESDAY_TWO)
    assert answer.status_code == 200, answer.text
    moved = answer.json()
    assert moved == client.get(f"/api/bookings/{booking['id']}").json()  # the booking's own shape
    assert (moved["id"], moved["status"], moved["start"]) == (booking["id"], "confirmed", TUESDAY_TWO)
    assert len(gateway.sessions) == 1  # no new checkout: the payment stays with the booking
    assert NINE in _starts(client)  # the old day and the new, at once, from this worker's cache too
    assert TUESDAY_TWO not in _starts(client, "2030-01-15")


def test_a_held_booking_moved_is_answered_with_a_new_payment_page_naming_the_new_time(
    client: TestClient, gateway: FakePaymentGateway
) -> None:
    held = book(client, NINE).json()
    answer = _move(client, held, TEN)
    assert answer.status_code == 200, answer.text
    moved = answer.json()
    assert (moved["status"], moved["start"]) == ("pending_payment", TEN)
    assert moved["checkout_url"] not in (None, held["checkout_url"])
    new = next(s for s in gateway.sessions.values() if moved["checkout_url"].endswith(s.id))
    assert (new.status, new.product_name) == ("open", "Dr. Jane Doe, Mon 14 Jan 2030 10:00 (Europe/Berlin)")
    assert gateway.sessions[held["checkout_session_id"]].status == "expired"  # the old page closed
    assert moved == client.get(f"/api/bookings/{held['id']}").json() | {"checkout_url": moved["checkout_url"]}

    payload, headers = gateway.sign(gateway.pay(new.id))
    paid = client.post("/api/webhooks/stripe", content=payload, headers=headers)
    assert paid.json()["outcome"] == "confirmed"
    assert client.get(f"/api/bookings/{held['id']}").json()["status"] == "confirmed"
    again = _move(client, held, ELEVEN).json()  # paid now: nothing more to pay, no page
    assert "checkout_url" not in again and again["start"] == ELEVEN and len(gateway.sessions) == 2


def test_a_held_booking_is_not_moved_while_the_payment_provider_is_down(
    client: TestClient, gateway: FakePaymentGateway
) -> None:
    held = book(client, NINE).json()
    gateway.failing = True
    refused = _move(client, held, TEN)
    gateway.failing = False
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "provider_unavailable"
    assert client.get(f"/api/bookings/{held['id']}").json()["start"] == NINE
    assert [(s.id, s.status) for s in gateway.sessions.values()] == [(held["checkout_session_id"], "open")]


def test_a_wrong_token_is_403_and_moves_nothing(client: TestClient, gateway: FakePaymentGateway) -> None:
    booking = _paid(client, gateway, NINE)
    refused = _move(client, booking, TEN, token="forged-" + "x" * 40)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "invalid_cancel_token"
    assert client.get(f"/api/bookings/{booking['id']}").json()["start"] == NINE
    assert _move(client, {"id": "no-such-booking", "cancel_token": "x"}, TEN).status_code == 404


def test_a_taken_time_is_409_and_both_keep_theirs(client: TestClient, gateway: FakePaymentGateway) -> None:
    booking = _paid(client, gateway, NINE)
    other = _paid(client, gateway, ELEVEN, name="Bo Client", email="bo@example.com", phone="+49 30 7654321")
    refused = _move(client, booking, ELEVEN)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "slot_unavailable"
    assert client.get(f"/api/bookings/{booking['id']}").json()["start"] == NINE
    assert client.get(f"/api/bookings/{other['id']}").json()["start"] == ELEVEN


def test_a_start_not_offered_is_422_naming_start(client: TestClient, gateway: FakePaymentGateway) -> None:
    booking = _paid(client, gateway, NINE)
    for start in ("2030-01-14T09:07:00+01:00", "2030-01-14T20:00:00+01:00", "2030-01-14T10:00:00", "soon"):
        refused = _move(client, booking, start)
        assert refused.status_code == 422, (start, refused.text)
        assert set(refused.json()["error"]["fields"]) == {"start"}, start
    assert client.get(f"/api/bookings/{booking['id']}").json()["start"] == NINE


def test_a_third_move_is_422_reschedule_not_allowed_with_the_reason(
    client: TestClient, gateway: FakePaymentGateway
) -> None:
    booking = _paid(client, gateway, NINE)
    assert _move(client, booking, TEN).status_code == 200
    assert _move(client, booking, ELEVEN).status_code == 200
    refused = _move(client, booking, NINE)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "reschedule_not_allowed" and "moved 2 times" in error["message"]
    assert client.get(f"/api/bookings/{booking['id']}").json()["start"] == ELEVEN


def test_moves_are_rate_limited_as_booking_attempts(
    tmp_path: Path, clock: ManualClock, gateway: FakePaymentGateway
) -> None:
    settings = Settings(data_dir=tmp_path, booking_rate_limit_per_minute=3, public_base_url=TEST_CLIENT_URL)
    with TestClient(create_app(settings, build=memory_builder(clock, gateway))) as client:
        booking = book(client, NINE).json()  # one attempt of the three
        answers = [_move(client, booking, start).status_code for start in (TEN, ELEVEN, NINE)]
        assert answers == [200, 200, 429]
        assert client.get(f"/api/bookings/{booking['id']}").json()["start"] == ELEVEN


def _move_as(client: TestClient, practitioner_id: str, booking_id: str, body: dict[str, Any]) -> Any:
    token = api_token(client, practitioner_id)
    return client.post(f"/api/me/bookings/{booking_id}/reschedule", json=body, headers=bearer(token))


def test_the_practitioner_moves_their_booking_to_any_free_time(
    client: TestClient, gateway: FakePaymentGateway
) -> None:
    booking = _paid(client, gateway, NINE)
    evening = "2030-01-14T19:30:00+01:00"  # outside Jane's hours on Monday: hers to agree
    answer = _move_as(
        client, "jane-doe", booking["id"], {"start": evening, "reason": "A conference came up."}
    )
    assert answer.status_code == 200, answer.text
    moved = answer.json()
    assert (moved["id"], moved["start"], moved["status"]) == (booking["id"], evening, "confirmed")
    assert NINE in _starts(client)
    other = _paid(client, gateway, TEN, name="Bo Client", email="bo@example.com", phone="+49 30 7654321")
    taken = _move_as(client, "jane-doe", booking["id"], {"start": TEN})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "slot_unavailable"
    too_long = _move_as(client, "jane-doe", booking["id"], {"start": NINE, "reason": "x" * 501})
    assert too_long.status_code == 422 and set(too_long.json()["error"]["fields"]) == {"reason"}
    past = _move_as(client, "jane-doe", booking["id"], {"start": "2030-01-01T09:00:00+01:00"})
    assert past.status_code == 422 and set(past.json()["error"]["fields"]) == {"start"}
    assert _move_as(client, "sam-lee", booking["id"], {"start": NINE}).status_code == 404  # not his
    anonymous = client.post(f"/api/me/bookings/{booking['id']}/reschedule", json={"start": NINE})
    assert anonymous.status_code == 401
    assert client.get(f"/api/bookings/{booking['id']}").json()["start"] == evening
    assert client.get(f"/api/bookings/{other['id']}").json()["start"] == TEN


@pytest.mark.parametrize("path", ["/api/bookings/{id}/reschedule", "/api/me/bookings/{id}/reschedule"])
def test_both_moves_are_in_the_openapi_document(client: TestClient, path: str) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"][path.replace("{id}", "{booking_id}")]["post"]
    assert {"200", "409", "422"} <= set(operation["responses"])
