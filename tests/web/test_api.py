"""The JSON API through HTTP, over the memory fakes and over SQLite."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from attrs import define, field
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, ManualClock
from booking_core import PaymentEvent

MONDAY = "2030-01-14"  # a week after the clock's "now", inside every horizon


def first_slot(client: TestClient, practitioner: str = "jane-doe", day: str = MONDAY) -> str:
    response = client.get(
        f"/api/practitioners/{practitioner}/availability", params={"start": day, "end": day}
    )
    assert response.status_code == 200
    start: str = response.json()["slots"][0]["start"]
    return start


def book(client: TestClient, start: str, headers: dict[str, str] | None = None, **overrides: Any) -> Any:
    body = {
        "practitioner_id": "jane-doe",
        "start": start,
        "name": "Ann Example",
        "email": "ann@example.com",
        "phone": "+49 30 1234567",
    } | overrides
    return client.post("/api/bookings", json=body, headers=headers)


def test_lists_the_practitioners_with_prices_in_minor_units(client: TestClient) -> None:
    practitioners = client.get("/api/practitioners").json()["practitioners"]
    jane = next(p for p in practitioners if p["id"] == "jane-doe")
    assert jane["price"]["amount"] == 9000
    assert jane["price"]["currency"] == "EUR"
    assert jane["session_minutes"] == 50
    assert jane["timezone"] == "Europe/Berlin"
    assert client.get("/api/practitioners/jane-doe").json() == jane


def test_availability_is_shown_in_the_requested_time_zone(client: TestClient) -> None:
    berlin = client.get(
        "/api/practitioners/jane-doe/availability", params={"start": MONDAY, "end": MONDAY}
    ).json()
    tokyo = client.get(
        "/api/practitioners/jane-doe/availability",
        params={"start": MONDAY, "end": MONDAY, "timezone": "Asia/Tokyo"},
    ).json()
    assert berlin["source"] == "schedule"
    assert berlin["slots"][0]["start"] == "2030-01-14T09:00:00+01:00"
    assert berlin["slots"][0]["end"] == "2030-01-14T09:50:00+01:00"
    assert tokyo["timezone"] == "Asia/Tokyo"
    assert all(slot["start"].endswith("+09:00") for slot in tokyo["slots"])


def test_availability_range_is_limited(client: TestClient) -> None:
    response = client.get(
        "/api/practitioners/jane-doe/availability", params={"start": "2030-01-08", "end": "2030-04-30"}
    )
    assert response.status_code == 422
    assert "end" in response.json()["error"]["fields"]


def test_a_booking_holds_the_slot_until_paid_and_hides_contact_details(
    client: TestClient, gateway: FakePaymentGateway
) -> None:
    start = first_slot(client)
    response = book(client, start)
    assert response.status_code == 201
    created = response.json()
    assert created["status"] == "pending_payment"
    assert created["start"] == start
    assert created["checkout_url"].startswith("https://")
    assert created["cancel_token"]
    assert start not in [
        s["start"]
        for s in client.get(
            "/api/practitioners/jane-doe/availability", params={"start": MONDAY, "end": MONDAY}
        ).json()["slots"]
    ]

    shown = client.get(f"/api/bookings/{created['id']}")
    assert shown.status_code == 200
    assert "ann@example.com" not in shown.text
    assert "1234567" not in shown.text
    assert shown.json()["practitioner"] == {"id": "jane-doe", "name": "Dr. Jane Doe"}


@define
class CountingGateway(FakePaymentGateway):
    asked: list[str] = field(factory=list)  # session ids checkout_status was asked about

    async def checkout_status(self, session_id: str) -> PaymentEvent:
        self.asked.append(session_id)
        return await super().checkout_status(session_id)


@pytest.fixture
def gateway() -> CountingGateway:
    return CountingGateway()


def test_reading_a_pending_booking_asks_the_provider_at_most_every_few_seconds(
    client: TestClient, gateway: CountingGateway, clock: ManualClock
) -> None:
    created = book(client, first_slot(client)).json()
    for _ in range(3):
        assert client.get(f"/api/bookings/{created['id']}").json()["status"] == "pending_payment"
    assert len(gateway.asked) == 1
    gateway.pay(next(iter(gateway.sessions)))  # its webhook is lost
    clock.advance(timedelta(seconds=6))

    assert client.get(f"/api/bookings/{created['id']}").json()["status"] == "confirmed"
    assert client.get(f"/api/bookings/{created['id']}").json()["status"] == "confirmed"
    assert len(gateway.asked) == 2  # a confirmed booking is not asked about


def test_the_same_slot_cannot_be_sold_twice(client: TestClient) -> None:
    start = first_slot(client)
    assert book(client, start).status_code == 201
    second = book(client, start, name="Bob Other", email="bob@example.com")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "slot_unavailable"


def test_an_idempotency_key_returns_the_same_booking(client: TestClient) -> None:
    start = first_slot(client)
    first = book(client, start, headers={"Idempotency-Key": "click-1"})
    again = book(client, start, headers={"Idempotency-Key": "click-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["cancel_token"] == first.json()["cancel_token"]


def test_another_client_reusing_an_idempotency_key_gets_neither_booking_nor_token(client: TestClient) -> None:
    start = first_slot(client)
    key = {"Idempotency-Key": "6c1f0d2e-order-42"}  # a predictable key, as the docs once showed
    victim = book(client, start, headers=key)
    assert victim.status_code == 201
    thief = book(client, start, headers=key, name="Eve", email="eve@example.com", phone="+1 212 555 0100")
    assert thief.status_code == 422
    error = thief.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert set(error["fields"]) == {"Idempotency-Key"}
    assert victim.json()["cancel_token"] not in thief.text and victim.json()["id"] not in thief.text
    for change in ({"name": "Ann Exampel"}, {"timezone": "UTC"}, {"phone": "+49 30 1234568"}):
        assert book(client, start, headers=key, **change).status_code == 422, change


def test_a_retry_with_the_same_fields_replays_whatever_the_key_order_and_spacing(client: TestClient) -> None:
    start = first_slot(client)
    key = {"Idempotency-Key": "f47ac10b-58cc-4372-a567-0e02b2c3d479"}
    first = book(client, start, headers=key).json()
    body = (
        f'{{ "phone" : "+49 30 1234567", "email": "ann@example.com",\n "name": "Ann Example",'
        f' "start": "{start}", "practitioner_id": "jane-doe" }}'
    )
    again = client.post("/api/bookings", content=body, headers=key | {"Content-Type": "application/json"})
    assert again.status_code == 201
    assert (again.json()["id"], again.json()["cancel_token"]) == (first["id"], first["cancel_token"])


def test_invalid_fields_are_named(client: TestClient) -> None:
    response = book(client, first_slot(client), email="not-an-address", phone="12")
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"email", "phone"}


def test_cancel_needs_the_right_token(client: TestClient) -> None:
    created = book(client, first_slot(client)).json()
    wrong = client.post(f"/api/bookings/{created['id']}/cancel", json={"cancel_token": "guess"})
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "invalid_cancel_token"
    assert client.get(f"/api/bookings/{created['id']}").json()["status"] == "pending_payment"

    right = client.post(
        f"/api/bookings/{created['id']}/cancel", json={"cancel_token": created["cancel_token"]}
    )
    assert right.status_code == 200
    assert right.json()["status"] == "cancelled"


def test_a_payment_provider_failure_is_503_and_releases_the_hold(
    client: TestClient, gateway: FakePaymentGateway
) -> None:
    start = first_slot(client)
    gateway.failing = True
    response = book(client, start)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "provider_unavailable"
    assert "try again" in response.json()["error"]["message"].lower()
    gateway.failing = False
    assert book(client, start).status_code == 201


def test_a_removed_practitioner_is_offered_no_more_but_their_bookings_still_show(
    client: TestClient, clock: ManualClock
) -> None:
    created = book(client, first_slot(client)).json()
    clock.advance(timedelta(hours=1))  # the hold lapses unpaid
    service = client.app.state.booking  # type: ignore[attr-defined]
    client.portal.call(service.directory.remove, "jane-doe", clock.now())  # type: ignore[union-attr]

    assert client.get("/api/practitioners/jane-doe").status_code == 404
    assert "jane-doe" not in [p["id"] for p in client.get("/api/practitioners").json()["practitioners"]]
    assert client.get(f"/api/practitioners/jane-doe/availability?start={MONDAY}").status_code == 404
    assert book(client, created["start"]).status_code == 404
    shown = client.get(f"/api/bookings/{created['id']}")
    assert shown.status_code == 200
    assert shown.json()["practitioner"] == {"id": "jane-doe", "name": "Dr. Jane Doe"}


def test_the_practitioner_states_the_cancellation_policy_as_data_and_words(client: TestClient) -> None:
    practitioner = client.get("/api/practitioners/jane-doe").json()
    words = "Full refund if you cancel at least 24 hours before the session; after that, no refund."
    assert practitioner["cancellation_policy"] == {
        "full_refund_notice_hours": 24,
        "late_refund_percent": 0,
        "description": words,
    }
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "cancellation_policy" in schemas["Practitioner"]["required"]
    registry: Registry[Any] = Registry().with_resource(
        "urn:booking", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    schema = {"$ref": "urn:booking#/components/schemas/Practitioner"}
    Draft202012Validator(schema, registry=registry).validate(practitioner)
    policy = schemas["CancellationPolicy"]
    assert set(policy["properties"]) == set(policy["required"]) == set(practitioner["cancellation_policy"])
