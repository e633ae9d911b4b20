"""The attack of the security review: one address, e-mail and phone held a practitioner's whole
week without paying. Each client (by e-mail, phone or network) may hold two slots unpaid at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from booking_web.app import Builder, create_app
from booking_web.settings import Settings
from tests.fuzz.stacks import hidden_fields
from tests.web.conftest import TEST_CLIENT_URL

WEEK = {"start": "2030-01-08", "end": "2030-01-14", "timezone": "UTC"}
CLIENT = {"name": "Mallory", "email": "mallory@example.com", "phone": "+49 30 1234567"}


def _client_at(settings: Settings, builder: Builder, address: str) -> Iterator[TestClient]:
    with TestClient(
        create_app(settings, build=builder), raise_server_exceptions=False, client=(address, 4321)
    ) as c:
        yield c


@pytest.fixture
def attacker(settings: Settings, builder: Builder) -> Iterator[TestClient]:
    yield from _client_at(settings, builder, "2001:db8:1:2::7")


def _week(client: TestClient) -> list[str]:
    response = client.get("/api/practitioners/jane-doe/availability", params=WEEK)
    assert response.status_code == 200
    return [slot["start"] for slot in response.json()["slots"]]


def _book(client: TestClient, start: str, **details: str) -> tuple[int, dict[str, object]]:
    response = client.post(
        "/api/bookings", json={"practitioner_id": "jane-doe", "start": start} | CLIENT | details
    )
    return response.status_code, response.json()


def test_one_client_cannot_hold_a_week_it_does_not_pay_for(attacker: TestClient) -> None:
    starts = _week(attacker)
    assert len(starts) > 20
    answers = [_book(attacker, start) for start in starts]
    assert [status for status, _ in answers].count(201) == 2
    refusals = [body for status, body in answers if status != 201]
    assert {status for status, _ in answers} == {201, 429}
    error = refusals[0]["error"]
    assert isinstance(error, dict) and error["code"] == "too_many_holds"
    assert set(error["fields"]) == {"email"}
    assert "finish paying for one of them or cancel it" in error["message"]
    assert len(_week(attacker)) == len(starts) - 2


def test_new_emails_and_phones_from_one_network_do_not_lift_the_cap(attacker: TestClient) -> None:
    starts = _week(attacker)
    statuses = []
    for number, start in enumerate(starts[:4]):
        status, body = _book(
            attacker, start, email=f"m{number}@example.com", phone=f"+49 30 555 {number:04d}"
        )
        statuses.append(status)
    assert statuses == [201, 201, 429, 429]
    assert set(body["error"]["fields"]) == {"client_address"}  # type: ignore[index]
    # another network is another client (the same app, seen from another address)
    neighbour = TestClient(attacker.app, raise_server_exceptions=False, client=("2001:db8:1:3::7", 4321))
    assert _book(neighbour, starts[5], email="n@example.com", phone="+49 30 555 9999")[0] == 201


def test_cancelling_a_pending_booking_frees_a_place(attacker: TestClient) -> None:
    starts = _week(attacker)
    first, _second = (_book(attacker, start)[1] for start in starts[:2])
    assert _book(attacker, starts[2])[0] == 429
    cancelled = attacker.post(
        f"/api/bookings/{first['id']}/cancel", json={"cancel_token": first["cancel_token"]}
    )
    assert cancelled.status_code == 200
    assert _book(attacker, starts[2])[0] == 201


def test_the_caps_are_configurable_per_deployment(tmp_path: Path, builder: Builder) -> None:
    settings = Settings.from_env(
        {
            "BOOKING_DATA_DIR": str(tmp_path),
            "BOOKING_RATE_LIMIT_PER_MINUTE": "1000",
            "PUBLIC_BASE_URL": TEST_CLIENT_URL,
            "HOLD_LIMIT_PER_CLIENT": "3",
        }
    )
    for client in _client_at(settings, builder, "203.0.113.9"):
        starts = _week(client)
        assert [_book(client, start)[0] for start in starts[:4]] == [201, 201, 201, 429]


def test_the_booking_form_says_why_a_third_hold_is_refused(attacker: TestClient) -> None:
    statuses = []
    for _ in range(3):
        page = attacker.get("/book/jane-doe", params={"week": "2030-01-14"}, headers={"Accept": "text/html"})
        starts = re.findall(r'name="start" value="([^"]+)"', page.text)
        form = hidden_fields(page.text) | CLIENT | {"start": starts[0]}
        answer = attacker.post(
            "/book/jane-doe", data=form, headers={"Accept": "text/html"}, follow_redirects=False
        )
        statuses.append(answer.status_code)
    assert statuses == [303, 303, 429]
    assert "waiting for payment" in answer.text and "Mallory" in answer.text  # the form, filled in
