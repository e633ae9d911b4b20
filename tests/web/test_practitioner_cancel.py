"""Cancelling by the practitioner (issue 15 item 3), over the fakes and SQLite: POST
/api/me/bookings/{id}/cancel with their API token, and the page's confirmation step with its
CSRF-protected form. What was paid goes back in full, a hold is released and its checkout expired,
a session that has started stays (409 session_started), another practitioner's booking is 404."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, ManualClock
from booking_web.settings import Settings
from tests.unit.notifications.servers import WebhookReceiver
from tests.web.embedded import (
    CLIENT_EMAIL,
    book_and_pay,
    environment,
    eventually,
    next_weekday,
    serving,
    started,
)
from tests.web.practitioner_sign_in import (
    HTML,
    api_token,
    bearer,
    hidden_fields,
    mails,
    sign_in,
    text_of,
    with_emails,
)
from tests.web.test_api import book

MONDAY = "2030-01-14"  # a week after the clock's "now"
NINE, ELEVEN = "2030-01-14T09:00:00+01:00", "2030-01-14T11:00:00+01:00"


@pytest.fixture
def booked(client: TestClient, gateway: FakePaymentGateway) -> dict[str, dict[str, Any]]:
    return book_the_day(client, gateway)


def book_the_day(client: TestClient, gateway: FakePaymentGateway) -> dict[str, dict[str, Any]]:
    """Jane: a paid session at 11:00 and an unpaid hold at 09:00 on MONDAY; Sam: a hold of his own."""
    with_emails(client)
    late = book(client, ELEVEN, name="Bo Client", email="bo@example.com").json()
    payload, headers = gateway.sign(gateway.pay(late["checkout_session_id"]))
    assert client.post("/api/webhooks/stripe", content=payload, headers=headers).status_code == 200
    early = book(client, NINE).json()
    sams_slot = client.get(
        "/api/practitioners/sam-lee/availability", params={"start": MONDAY, "end": MONDAY}
    ).json()["slots"][0]["start"]
    sams = book(client, sams_slot, practitioner_id="sam-lee", name="Cy Sam", email="cy@example.com").json()
    return {"early": early, "late": late, "sams": sams}


def _cancel(
    client: TestClient, booking_id: str, body: dict[str, Any], practitioner_id: str = "jane-doe"
) -> Any:
    token = api_token(client, practitioner_id)
    return client.post(f"/api/me/bookings/{booking_id}/cancel", json=body, headers=bearer(token))


def _jane_starts(client: TestClient) -> list[str]:
    slots = client.get(
        "/api/practitioners/jane-doe/availability", params={"start": MONDAY, "end": MONDAY}
    ).json()["slots"]
    return [slot["start"] for slot in slots]


def test_a_paid_session_is_refunded_in_full(
    client: TestClient, booked: dict[str, dict[str, Any]], gateway: FakePaymentGateway
) -> None:
    answer = _cancel(client, booked["late"]["id"], {"reason": "I am ill, sorry."})
    assert answer.status_code == 200, answer.text
    cancelled = answer.json()
    assert cancelled["id"] == booked["late"]["id"] and cancelled["status"] == "cancelled"
    assert (
        cancelled["refunded"]
        == cancelled["paid"]
        == {"amount": 9000, "currency": "EUR", "formatted": "90.00 EUR"}
    )
    assert cancelled["start"] == ELEVEN  # the /api/me/bookings item, in the practitioner's time zone
    assert [refund.amount.amount for refund in gateway.refunds.values()] == [9000]
    assert ELEVEN in _jane_starts(client)
    again = _cancel(client, booked["late"]["id"], {})
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    assert len(gateway.refunds) == 1  # not twice


def test_an_unpaid_hold_is_released_and_its_checkout_expired(
    client: TestClient, booked: dict[str, dict[str, Any]], gateway: FakePaymentGateway
) -> None:
    assert NINE not in _jane_starts(client)
    answer = _cancel(client, booked["early"]["id"], {})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled" and answer.json()["paid"] is None
    assert gateway.sessions[booked["early"]["checkout_session_id"]].status == "expired"
    assert gateway.refunds == {}
    assert NINE in _jane_starts(client)


def test_a_session_that_has_started_is_refused(
    client: TestClient, booked: dict[str, dict[str, Any]], clock: ManualClock
) -> None:
    clock.set(datetime(2030, 1, 14, 10, 0, tzinfo=UTC))  # 11:00 in Berlin
    answer = _cancel(client, booked["late"]["id"], {"reason": "too late"})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "session_started"
    assert "started" in answer.json()["error"]["message"]
    token = api_token(client, "jane-doe")
    mine = client.get(f"/api/me/bookings/{booked['late']['id']}", headers=bearer(token)).json()
    assert mine["status"] == "confirmed" and mine["refunded"] is None


def test_another_practitioners_booking_is_not_found(
    client: TestClient, booked: dict[str, dict[str, Any]], gateway: FakePaymentGateway
) -> None:
    answer = _cancel(client, booked["sams"]["id"], {})
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    assert gateway.sessions[booked["sams"]["checkout_session_id"]].status == "open"
    assert client.get(f"/api/bookings/{booked['sams']['id']}").json()["status"] == "pending_payment"


def test_without_a_token_nothing_is_cancelled(client: TestClient, booked: dict[str, dict[str, Any]]) -> None:
    for headers in ({}, bearer("not-a-token")):
        answer = client.post(f"/api/me/bookings/{booked['late']['id']}/cancel", json={}, headers=headers)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthenticated"
    assert client.get(f"/api/bookings/{booked['late']['id']}").json()["status"] == "confirmed"


@pytest.mark.parametrize("reason", ["x" * 501, 42])
def test_a_reason_too_long_or_not_text_is_named(
    client: TestClient, booked: dict[str, dict[str, Any]], reason: object
) -> None:
    answer = _cancel(client, booked["late"]["id"], {"reason": reason})
    assert answer.status_code == 422
    assert set(answer.json()["error"]["fields"]) == {"reason"}
    assert client.get(f"/api/bookings/{booked['late']['id']}").json()["status"] == "confirmed"


# -- the page ---------------------------------------------------------------------------------------


def test_the_page_cancels_after_a_confirmation(
    client: TestClient, booked: dict[str, dict[str, Any]], settings: Settings, gateway: FakePaymentGateway
) -> None:
    sign_in(client, settings.mailbox_dir)
    week = client.get("/practitioner/bookings", params={"week": MONDAY}, headers=HTML).text
    link = f"/practitioner/bookings/{booked['late']['id']}/cancel"
    assert f'href="http://testserver{link}"' in week or f'href="{link}"' in week
    confirm = client.get(link, headers=HTML)
    assert confirm.status_code == 200
    assert "Cancel this session?" in confirm.text and "Bo Client" in confirm.text
    assert client.get(f"/api/bookings/{booked['late']['id']}").json()["status"] == "confirmed"  # not yet
    form = hidden_fields(confirm.text) | {"reason": "I am ill, sorry."}
    done = client.post(link, data=form, headers=HTML, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, f"/practitioner/bookings?week={MONDAY}")
    assert client.get(f"/api/bookings/{booked['late']['id']}").json()["status"] == "cancelled"
    assert [refund.amount.amount for refund in gateway.refunds.values()] == [9000]
    after = client.get(done.headers["location"], headers=HTML).text
    assert "90.00 EUR refunded" in after and link not in after  # nothing left to cancel


def test_the_page_form_needs_its_csrf_token(
    client: TestClient, booked: dict[str, dict[str, Any]], settings: Settings
) -> None:
    sign_in(client, settings.mailbox_dir)
    link = f"/practitioner/bookings/{booked['late']['id']}/cancel"
    forged = client.post(link, data={"reason": "forged", "csrf_token": "wrong"}, headers=HTML)
    assert forged.status_code == 403
    assert client.get(f"/api/bookings/{booked['late']['id']}").json()["status"] == "confirmed"


def test_the_page_refuses_a_started_session_and_anothers_booking(
    client: TestClient, booked: dict[str, dict[str, Any]], settings: Settings, clock: ManualClock
) -> None:
    sign_in(client, settings.mailbox_dir)
    assert (
        client.get(f"/practitioner/bookings/{booked['sams']['id']}/cancel", headers=HTML).status_code == 404
    )
    link = f"/practitioner/bookings/{booked['late']['id']}/cancel"
    form = hidden_fields(client.get(link, headers=HTML).text)
    clock.set(datetime(2030, 1, 14, 10, 0, tzinfo=UTC))  # the session starts while the page is open
    refused = client.post(link, data=form, headers=HTML)
    assert refused.status_code == 409
    assert "started can no longer be cancelled" in refused.text
    assert client.get(f"/api/bookings/{booked['late']['id']}").json()["status"] == "confirmed"


def test_the_pages_need_a_session(client: TestClient, booked: dict[str, dict[str, Any]]) -> None:
    link = f"/practitioner/bookings/{booked['late']['id']}/cancel"
    answer = client.get(link, headers=HTML, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/practitioner/login")


# -- what leaves the running service ----------------------------------------------------------------


def test_the_client_is_mailed_the_reason_and_subscribers_hear_of_it(tmp_path: Path) -> None:
    secret = "whsec_fake" + "s" * 32
    receiver = WebhookReceiver(secret.encode(), time.time)
    receiver.start()
    try:
        env = environment(tmp_path / "var", WEBHOOK_URLS=receiver.url, WEBHOOK_SECRET=secret)
        settings = started(env)
        with serving(settings) as client:
            booking_id = book_and_pay(client, "jane-doe", next_weekday(0))
            token = api_token(client, "jane-doe")
            answer = client.post(
                f"/api/me/bookings/{booking_id}/cancel",
                json={"reason": "I am ill, sorry."},
                headers=bearer(token),
            )
            assert answer.status_code == 200, answer.text
            assert eventually(lambda: _cancellation_mails(settings.mailbox_dir) != [])
            assert eventually(lambda: "booking.cancelled" in [e["type"] for e in receiver.events])
    finally:
        receiver.stop()
    # the confirmation may not have gone out before the cancellation: then it never does
    [cancellation] = _cancellation_mails(settings.mailbox_dir)
    assert CLIENT_EMAIL in str(cancellation["To"])
    assert str(cancellation["Subject"]).startswith("Cancelled: your session with Dr. Jane Doe")
    text = text_of(cancellation)
    assert "Dr. Jane Doe wrote: I am ill, sorry." in text and "goes back to the card" in text
    invite = next(part for part in cancellation.iter_attachments() if part.get_filename() == "invite.ics")
    calendar = Calendar.from_ical(invite.get_content())
    assert calendar["METHOD"] == "CANCEL" and booking_id in str(calendar.walk("VEVENT")[0]["UID"])
    cancelled = [e for e in receiver.events if e["type"] == "booking.cancelled"]
    assert [e["data"]["booking_id"] for e in cancelled] == [booking_id]


def _cancellation_mails(folder: Path) -> list[EmailMessage]:
    """The client's (the practitioner is told too)."""
    return [
        mail
        for mail in mails(folder)
        if str(mail["Subject"]).startswith("Cancelled") and CLIENT_EMAIL in str(mail["To"])
    ]
