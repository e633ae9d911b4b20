"""Moving a session from the practitioner's bookings page (issue 16 item 4), over the fakes and
SQLite: a Move button per live session still to come, a week of free times of its service in their
zone (no JavaScript, CSRF-protected), an optional reason (to the client: the e-mail tests), refusals
on the page, another practitioner's booking 404."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from attrs import evolve
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway
from booking_web.settings import Settings
from tests.web.practitioner_sign_in import HTML, JANE, SAM, hidden_fields, sign_in, with_emails
from tests.web.test_api import book

MONDAY = "2030-01-14"
ELEVEN, TUESDAY_TEN = "2030-01-14T11:00:00+01:00", "2030-01-15T10:00:00+01:00"


@pytest.fixture
def paid(client: TestClient, gateway: FakePaymentGateway, settings: Settings) -> dict[str, Any]:
    """Jane's paid session at 11:00 on MONDAY, Jane signed in on the client."""
    with_emails(client)
    created = book(client, ELEVEN, name="Bo Client", email="bo@example.com").json()
    payload, headers = gateway.sign(gateway.pay(created["checkout_session_id"]))
    assert client.post("/api/webhooks/stripe", content=payload, headers=headers).status_code == 200
    sign_in(client, settings.mailbox_dir)
    return dict(created)


def _link(booking: dict[str, Any]) -> str:
    return f"/practitioner/bookings/{booking['id']}/move"


def _post(client: TestClient, booking: dict[str, Any], **values: str) -> httpx.Response:
    form = hidden_fields(client.get(_link(booking), headers=HTML).text)
    return client.post(_link(booking), data=form | values, headers=HTML, follow_redirects=False)


def _start_of(client: TestClient, booking: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(client.get(f"/api/bookings/{booking['id']}").json()["start"])


def test_the_move_button_leads_to_free_times_and_moves_the_session(
    client: TestClient, paid: dict[str, Any]
) -> None:
    week = client.get("/practitioner/bookings", params={"week": MONDAY}, headers=HTML).text
    assert f'href="http://testserver{_link(paid)}"' in week
    page = client.get(_link(paid), headers=HTML)
    assert page.status_code == 200 and "Move this session" in page.text and "Bo Client" in page.text
    starts = re.findall(r'name="start" value="([^"]+)"', page.text)
    assert TUESDAY_TEN in starts and ELEVEN not in starts  # Berlin times, its own not offered

    done = _post(client, paid, start=TUESDAY_TEN, reason="A conference <on Monday>")

    assert (done.status_code, done.headers["location"]) == (303, f"/practitioner/bookings?week={MONDAY}")
    assert _start_of(client, paid) == datetime.fromisoformat(TUESDAY_TEN)
    assert client.get(f"/api/bookings/{paid['id']}").json()["status"] == "confirmed"


def test_a_session_moves_half_an_hour_earlier_into_its_own_time(
    client: TestClient, gateway: FakePaymentGateway, settings: Settings
) -> None:
    """Starts every quarter of an hour: 10:30 overlaps only the session's own 11:00-12:00, and
    10:00 (to 11:00) touches it; the week offers both, a new booking neither."""
    with_emails(client, evolve(JANE, offer=evolve(JANE.offer, slot_step=timedelta(minutes=15))), SAM)
    booking = book(client, ELEVEN, name="Bo Client", email="bo@example.com").json()
    payload, headers = gateway.sign(gateway.pay(booking["checkout_session_id"]))
    assert client.post("/api/webhooks/stripe", content=payload, headers=headers).status_code == 200
    sign_in(client, settings.mailbox_dir)
    half_past_ten = "2030-01-14T10:30:00+01:00"
    starts = re.findall(r'name="start" value="([^"]+)"', client.get(_link(booking), headers=HTML).text)
    assert {half_past_ten, "2030-01-14T10:00:00+01:00"} <= set(starts) and ELEVEN not in starts

    done = _post(client, booking, start=half_past_ten)

    assert done.status_code == 303
    assert _start_of(client, booking) == datetime.fromisoformat(half_past_ten)


def test_a_time_taken_meanwhile_is_said_on_the_page(client: TestClient, paid: dict[str, Any]) -> None:
    form = hidden_fields(client.get(_link(paid), headers=HTML).text)
    assert book(client, TUESDAY_TEN, email="cy@example.com", phone="+49 30 7654321").status_code == 201

    refused = client.post(_link(paid), data=form | {"start": TUESDAY_TEN}, headers=HTML)

    assert refused.status_code == 409 and "not available any more" in refused.text
    assert _start_of(client, paid) == datetime.fromisoformat(ELEVEN)


def test_an_unpaid_hold_moves_with_a_new_payment_page_or_not_at_all_while_stripe_is_down(
    client: TestClient, gateway: FakePaymentGateway, settings: Settings
) -> None:
    with_emails(client)
    held = book(client, ELEVEN, name="Bo Client", email="bo@example.com").json()
    sign_in(client, settings.mailbox_dir)
    gateway.failing = True
    refused = _post(client, held, start=TUESDAY_TEN)
    gateway.failing = False
    assert refused.status_code == 503 and "not answering" in refused.text
    assert _start_of(client, held) == datetime.fromisoformat(ELEVEN)

    assert _post(client, held, start=TUESDAY_TEN).status_code == 303
    assert _start_of(client, held) == datetime.fromisoformat(TUESDAY_TEN)
    old, new = gateway.sessions.values()
    assert (old.id, old.status, new.status) == (held["checkout_session_id"], "expired", "open")
    assert new.product_name == "Dr. Jane Doe, Tue 15 Jan 2030 10:00 (Europe/Berlin)"


def test_no_time_or_a_reason_too_long_is_named(client: TestClient, paid: dict[str, Any]) -> None:
    assert "Please choose a time." in _post(client, paid).text
    too_long = _post(client, paid, start=TUESDAY_TEN, reason="x" * 501)
    assert too_long.status_code == 422 and 'id="reason-error"' in too_long.text
    assert _start_of(client, paid) == datetime.fromisoformat(ELEVEN)


def test_the_form_needs_its_csrf_token_and_anothers_booking_is_not_found(
    client: TestClient, paid: dict[str, Any]
) -> None:
    forged = client.post(_link(paid), data={"csrf_token": "wrong", "start": TUESDAY_TEN}, headers=HTML)
    assert forged.status_code == 403
    sams_slot = client.get(
        "/api/practitioners/sam-lee/availability", params={"start": MONDAY, "end": MONDAY}
    ).json()["slots"][0]["start"]
    sams = book(client, sams_slot, practitioner_id="sam-lee", email="cy@example.com").json()
    assert client.get(_link(sams), headers=HTML).status_code == 404
    assert _start_of(client, paid) == datetime.fromisoformat(ELEVEN)


def test_the_page_needs_a_session(client: TestClient, gateway: FakePaymentGateway) -> None:
    created = book(client, ELEVEN).json()
    answer = client.get(_link(created), headers=HTML, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/practitioner/login")
