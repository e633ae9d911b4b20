"""The client's page of their booking (/booking/{id}/manage?token=...), over the fakes and SQLite:
the session in their time zone, a week of free times of the same service to move it to (no
JavaScript, CSRF-protected), the refusals on the page, a cancel button; a wrong token shows nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from attrs import evolve
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, ManualClock
from booking_web.app import create_app
from booking_web.settings import Settings
from tests.web.conftest import TEST_CLIENT_URL, memory_builder
from tests.web.practitioner_sign_in import HTML, JANE, hidden_fields, with_emails
from tests.web.test_api import book

WEEK = "2030-01-14"
MONDAY_NINE = "2030-01-14T09:00:00+01:00"  # Jane's first slot that Monday, in Berlin
TUESDAY_TEN = "2030-01-15T10:00:00+01:00"


@pytest.fixture
def paid(client: TestClient, gateway: FakePaymentGateway) -> dict[str, Any]:
    """A paid session on MONDAY_NINE, booked from New York."""
    created = book(client, MONDAY_NINE, timezone="America/New_York").json()
    payload, headers = gateway.sign(gateway.pay(created["checkout_session_id"]))
    assert client.post("/api/webhooks/stripe", content=payload, headers=headers).status_code == 200
    return dict(created)


def _url(booking: dict[str, Any]) -> str:
    return f"/booking/{booking['id']}/manage"


def _open(client: TestClient, booking: dict[str, Any], **query: str) -> httpx.Response:
    return client.get(
        _url(booking), params={"token": booking["cancel_token"], "week": WEEK} | query, headers=HTML
    )


def _move_form(page: httpx.Response) -> dict[str, str]:
    """The move form's hidden fields (the cancel form follows it with the same names)."""
    move = page.text.split('<form class="booking"', 1)[1].split("</form>", 1)[0]
    return hidden_fields(move)


def _move(client: TestClient, booking: dict[str, Any], start: str) -> httpx.Response:
    form = _move_form(_open(client, booking))
    return client.post(_url(booking), data=form | {"start": start}, headers=HTML)


def _starts(page: httpx.Response) -> list[str]:
    return re.findall(r'name="start" value="([^"]+)"', page.text)


def _start_of(client: TestClient, booking: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(client.get(f"/api/bookings/{booking['id']}").json()["start"])


def test_the_page_shows_the_session_and_moves_it_to_a_free_time(
    client: TestClient, paid: dict[str, Any]
) -> None:
    page = _open(client, paid)
    assert page.status_code == 200, page.text
    assert "Your booking" in page.text and "Monday 14 January 2030, 03:00" in page.text  # New York
    assert "Status: Confirmed" in page.text
    starts = _starts(page)
    tuesday_ten_in_new_york = "2030-01-15T04:00:00-05:00"
    assert tuesday_ten_in_new_york in starts and "2030-01-14T03:00:00-05:00" not in starts  # its own

    moved = client.post(_url(paid), data=_move_form(page) | {"start": tuesday_ten_in_new_york}, headers=HTML)

    assert moved.status_code == 200, moved.text
    assert "Your session has moved" in moved.text
    assert "Tuesday 15 January 2030, 04:00" in moved.text
    after = client.get(f"/api/bookings/{paid['id']}").json()
    assert (after["status"], after["id"]) == ("confirmed", paid["id"])
    assert datetime.fromisoformat(after["start"]) == datetime.fromisoformat(TUESDAY_TEN)
    assert "2030-01-14T03:00:00-05:00" in _starts(_open(client, paid))  # the old time is free again


def test_a_session_moves_half_an_hour_later_into_its_own_time(
    client: TestClient, gateway: FakePaymentGateway
) -> None:
    """With starts every quarter of an hour, 09:30 overlaps the session's own 09:00-10:00 only: the
    page offers it for the move (not to new bookings), and the move takes it."""
    with_emails(client, evolve(JANE, offer=evolve(JANE.offer, slot_step=timedelta(minutes=15))))
    booking = book(client, MONDAY_NINE).json()
    payload, headers = gateway.sign(gateway.pay(booking["checkout_session_id"]))
    assert client.post("/api/webhooks/stripe", content=payload, headers=headers).status_code == 200
    half_past_nine = "2030-01-14T09:30:00+01:00"
    page = _open(client, booking)
    assert half_past_nine in _starts(page) and "2030-01-14T09:15:00+01:00" in _starts(page)
    assert MONDAY_NINE not in _starts(page)  # where it is
    for_others = client.get(
        "/api/practitioners/jane-doe/availability", params={"start": "2030-01-14", "end": "2030-01-14"}
    ).json()
    assert [slot["start"] for slot in for_others["slots"]][:1] == ["2030-01-14T10:00:00+01:00"]

    moved = client.post(_url(booking), data=_move_form(page) | {"start": half_past_nine}, headers=HTML)

    assert moved.status_code == 200, moved.text
    assert "Your session has moved" in moved.text and "Monday 14 January 2030, 09:30" in moved.text
    assert _start_of(client, booking) == datetime.fromisoformat(half_past_nine)


def _pay_link(page: httpx.Response) -> str | None:
    found = re.search(r'<a class="button" href="([^"]+)"[^>]*>Pay for the session</a>', page.text)
    return found.group(1) if found else None


def test_a_held_session_moved_leads_to_a_new_payment_page(
    client: TestClient, gateway: FakePaymentGateway
) -> None:
    held = book(client, MONDAY_NINE).json()
    page = _open(client, held)
    assert _pay_link(page) == held["checkout_url"]

    moved = client.post(_url(held), data=_move_form(page) | {"start": TUESDAY_TEN}, headers=HTML)

    assert moved.status_code == 200, moved.text
    assert "Your session has moved" in moved.text and "names the new time" in moved.text
    new_page = _pay_link(moved)
    assert new_page is not None and new_page != held["checkout_url"]
    assert _pay_link(_open(client, held)) == new_page
    assert gateway.sessions[held["checkout_session_id"]].status == "expired"
    [new] = [s for s in gateway.sessions.values() if new_page.endswith(s.id)]
    assert (new.status, new.product_name) == ("open", "Dr. Jane Doe, Tue 15 Jan 2030 10:00 (Europe/Berlin)")


def test_a_held_session_stays_put_while_the_payment_provider_is_down(
    client: TestClient, gateway: FakePaymentGateway
) -> None:
    held = book(client, MONDAY_NINE).json()
    form = _move_form(_open(client, held))
    gateway.failing = True
    refused = client.post(_url(held), data=form | {"start": TUESDAY_TEN}, headers=HTML)
    gateway.failing = False
    assert refused.status_code == 503
    assert 'role="alert"' in refused.text and "not answering" in refused.text
    assert _pay_link(refused) == held["checkout_url"]
    assert _start_of(client, held) == datetime.fromisoformat(MONDAY_NINE)


def test_a_paid_session_offers_nothing_to_pay(client: TestClient, paid: dict[str, Any]) -> None:
    assert _pay_link(_open(client, paid)) is None


def test_a_wrong_token_shows_nothing_and_moves_nothing(client: TestClient, paid: dict[str, Any]) -> None:
    form = _move_form(_open(client, paid))
    for token in ("wrong", ""):
        page = client.get(_url(paid), params={"token": token}, headers=HTML)
        assert page.status_code == 403
        assert "Ann Example" not in page.text and "03:00" not in page.text and 'name="start"' not in page.text
        refused = client.post(_url(paid), data=form | {"token": token, "start": TUESDAY_TEN}, headers=HTML)
        assert refused.status_code == 403
    assert _start_of(client, paid) == datetime.fromisoformat(MONDAY_NINE)


def test_the_move_form_needs_its_csrf_token(client: TestClient, paid: dict[str, Any]) -> None:
    form = _move_form(_open(client, paid)) | {"csrf_token": "forged", "start": TUESDAY_TEN}
    assert client.post(_url(paid), data=form, headers=HTML).status_code == 403
    assert _start_of(client, paid) == datetime.fromisoformat(MONDAY_NINE)


def test_a_time_taken_meanwhile_is_said_on_the_page(client: TestClient, paid: dict[str, Any]) -> None:
    form = _move_form(_open(client, paid))
    assert book(client, TUESDAY_TEN, email="bo@example.com", phone="+49 30 7654321").status_code == 201

    refused = client.post(_url(paid), data=form | {"start": TUESDAY_TEN}, headers=HTML)

    assert refused.status_code == 409
    assert 'role="alert"' in refused.text and "not available any more" in refused.text
    assert _start_of(client, paid) == datetime.fromisoformat(MONDAY_NINE)


def test_no_time_chosen_is_said_on_the_page(client: TestClient, paid: dict[str, Any]) -> None:
    refused = client.post(_url(paid), data=_move_form(_open(client, paid)), headers=HTML)
    assert refused.status_code == 422 and "Please choose a time." in refused.text


def test_too_late_to_move_is_said_and_no_times_are_offered(
    client: TestClient, paid: dict[str, Any], clock: ManualClock
) -> None:
    form = _move_form(_open(client, paid))
    clock.set(datetime(2030, 1, 13, 12, 0, tzinfo=UTC))  # 21 hours before: inside the 24-hour notice

    refused = client.post(_url(paid), data=form | {"start": TUESDAY_TEN}, headers=HTML)
    page = _open(client, paid)

    assert refused.status_code == 422
    assert "Sessions can be moved up to 24 hours before they start" in refused.text
    assert "Sessions can be moved up to 24 hours before they start" in page.text and _starts(page) == []
    assert "Cancel this booking" in page.text  # cancelling is still possible
    assert _start_of(client, paid) == datetime.fromisoformat(MONDAY_NINE)


def test_a_third_move_is_refused_on_the_page(client: TestClient, paid: dict[str, Any]) -> None:
    form = _move_form(_open(client, paid))  # a page opened before the moves: the rule still holds
    for start in ("2030-01-15T04:00:00-05:00", "2030-01-15T05:00:00-05:00"):
        assert _move(client, paid, start).status_code == 200
    assert "moved 2 times already" in _open(client, paid).text

    refused = client.post(_url(paid), data=form | {"start": "2030-01-15T06:00:00-05:00"}, headers=HTML)

    assert refused.status_code == 422 and "moved 2 times already" in refused.text
    assert _start_of(client, paid) == datetime.fromisoformat("2030-01-15T05:00:00-05:00")


def test_a_session_that_started_cannot_move(
    client: TestClient, paid: dict[str, Any], clock: ManualClock
) -> None:
    form = _move_form(_open(client, paid))
    clock.set(datetime(2030, 1, 14, 8, 30, tzinfo=UTC))  # 09:30 in Berlin

    refused = client.post(_url(paid), data=form | {"start": TUESDAY_TEN}, headers=HTML)

    assert refused.status_code == 422 and "started" in refused.text
    page = _open(client, paid)
    assert _starts(page) == [] and "Cancel this booking" not in page.text
    assert _start_of(client, paid) == datetime.fromisoformat(MONDAY_NINE)


def test_the_weeks_are_linked_with_the_token(client: TestClient, paid: dict[str, Any]) -> None:
    page = _open(client, paid)
    token = paid["cancel_token"]
    assert f'href="?week=2030-01-21&amp;token={token}"' in page.text
    following = client.get(_url(paid), params={"token": token, "week": "2030-01-21"}, headers=HTML)
    assert _starts(following) and all(start.startswith("2030-01-2") for start in _starts(following))


def test_the_cancel_button_cancels(client: TestClient, paid: dict[str, Any]) -> None:
    page = _open(client, paid)
    cancel_form = page.text.split('<section class="cancel"', 1)[1]
    done = client.post(f"/booking/{paid['id']}/cancel", data=hidden_fields(cancel_form), headers=HTML)
    assert done.status_code == 200 and "Your booking is cancelled" in done.text
    assert client.get(f"/api/bookings/{paid['id']}").json()["status"] == "cancelled"


def test_the_token_stays_out_of_referrers_and_caches(client: TestClient, paid: dict[str, Any]) -> None:
    page = _open(client, paid)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"


def test_a_stranger_trying_tokens_is_rate_limited(
    tmp_path: Path, clock: ManualClock, gateway: FakePaymentGateway
) -> None:
    settings = Settings(
        data_dir=tmp_path, booking_link_rate_limit_per_minute=3, public_base_url=TEST_CLIENT_URL
    )
    with TestClient(create_app(settings, build=memory_builder(clock, gateway))) as client:
        created = book(client, MONDAY_NINE).json()
        answers = [
            client.get(_url(created), params={"token": f"guess-{n}"}, headers=HTML).status_code
            for n in range(4)
        ]
        assert answers == [403, 403, 403, 429]
        cancel_page = client.get(
            f"/booking/{created['id']}/cancel", params={"token": created["cancel_token"]}
        )
        assert cancel_page.status_code == 429  # one budget for the pages a booking's link opens
