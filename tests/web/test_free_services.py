"""Free services (issue 14 item 4): no payment step, confirmed at once; the cap on a client's free
bookings of one practitioner; paid services of the same practitioner still go through checkout."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from attrs import evolve
from starlette.applications import Starlette
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, MemoryBookingStore
from booking_core import BookingService, BookingStatus, Money, Practitioner, Service, Trigger
from booking_web.demo import DEMO_PRACTITIONERS
from tests.web.test_api import MONDAY, book
from tests.web.test_pages import HTML, WEEK, form_fields
from tests.web.test_services import _validate

T = TypeVar("T")

INTRO = Service("intro", "Free intro call", timedelta(minutes=15), Money(0, "EUR"))
SESSION = Service("session", "Session", timedelta(minutes=50), Money(9000, "EUR"))
MIA = evolve(DEMO_PRACTITIONERS[0], id="mia-free", name="Mia Free", services=(INTRO, SESSION))


def _service(client: TestClient) -> BookingService:
    app = client.app
    assert isinstance(app, Starlette)
    service: BookingService = app.state.booking
    return service


def _call(client: TestClient, function: Callable[..., Awaitable[T]], *args: object) -> T:
    assert client.portal is not None  # inside the client's `with`
    return client.portal.call(function, *args)


def _with(client: TestClient, practitioner: Practitioner = MIA) -> TestClient:
    _call(client, _service(client).directory.upsert, practitioner)
    return client


@pytest.fixture
def mia(client: TestClient) -> TestClient:
    return _with(client)


def _slots(client: TestClient, service_id: str) -> list[str]:
    answer = client.get(
        "/api/practitioners/mia-free/availability",
        params={"start": MONDAY, "end": MONDAY, "service": service_id},
    )
    return [slot["start"] for slot in answer.json()["slots"]]


def _book(client: TestClient, start: str, service_id: str = "intro", **overrides: Any) -> Any:
    return book(client, start, practitioner_id="mia-free", service_id=service_id, **overrides)


def test_a_free_service_is_confirmed_at_once_without_checkout(
    mia: TestClient, gateway: FakePaymentGateway
) -> None:
    created = _book(mia, _slots(mia, "intro")[0])
    assert created.status_code == 201
    booking = created.json()
    assert (booking["status"], booking["checkout_url"], booking["checkout_session_id"]) == (
        "confirmed",
        None,
        None,
    )
    assert booking["price"]["amount"] == 0
    assert booking["service"] == {"id": "intro", "name": "Free intro call", "minutes": 15}
    _validate(mia, "NewBooking", booking)
    assert gateway.sessions == {}  # Stripe never heard of it
    assert mia.get(f"/api/bookings/{booking['id']}").json()["status"] == "confirmed"
    history = _call(mia, _service(mia).store.history, booking["id"])
    assert [(e.trigger, e.from_status, e.to_status) for e in history] == [
        (Trigger.BOOKED_FREE, None, BookingStatus.CONFIRMED)
    ]
    # the change listener heard of it as of a paid confirmation (counted, the cache voided)
    assert 'trigger="booked_free"' in mia.get("/metrics").text


def test_cancelling_a_free_booking_refunds_nothing(mia: TestClient, gateway: FakePaymentGateway) -> None:
    booking = _book(mia, _slots(mia, "intro")[0]).json()
    cancelled = mia.post(
        f"/api/bookings/{booking['id']}/cancel", json={"cancel_token": booking["cancel_token"]}
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert gateway.refunds == {}
    assert _slots(mia, "intro")[0] == booking["start"]  # the time is free again


def test_the_paid_session_of_the_same_practitioner_still_goes_through_checkout(mia: TestClient) -> None:
    created = _book(mia, _slots(mia, "session")[0], service_id="session").json()
    assert created["status"] == "pending_payment" and created["checkout_url"]


def test_one_client_cannot_fill_a_calendar_with_free_bookings(mia: TestClient) -> None:
    """FREE_BOOKING_LIMIT_PER_CLIENT (2) free bookings of one practitioner still to come per client;
    a new e-mail address alone does not get round it (the phone is the same)."""
    starts = _slots(mia, "intro")
    assert [_book(mia, start).status_code for start in starts[:2]] == [201, 201]
    refused = _book(mia, starts[2], email="other@example.com")
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "too_many_free_bookings"
    assert list(error["fields"]) == ["phone"]
    assert "2 free bookings with this practitioner" in error["message"]
    assert _slots(mia, "intro")[:1] == [starts[2]]  # nothing was booked
    another = _book(mia, starts[2], email="bo@example.com", phone="+49 30 7654321", name="Bo")
    assert another.status_code == 201


def test_the_booking_form_goes_straight_to_the_confirmation(
    memory_client: TestClient, gateway: FakePaymentGateway
) -> None:
    _with(memory_client)
    page = memory_client.get("/book/mia-free", params={"week": WEEK, "service": "intro"}, headers=HTML)
    assert "Book for free" in page.text and "Continue to payment" not in page.text
    assert "Nothing to pay: cancel at any time before the session starts." in page.text
    start = re.search(r'name="start" value="([^"]+)"', page.text)
    assert start is not None
    data = form_fields(page.text) | {
        "name": "Ann Example",
        "email": "ann@example.com",
        "phone": "+49 30 1234567",
        "start": start.group(1),
    }
    response = memory_client.post("/book/mia-free", data=data, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("http://testserver/booking/success?booking=")
    assert gateway.sessions == {}
    confirmation = memory_client.get(response.headers["location"], headers=HTML)
    assert "Your booking is confirmed" in confirmation.text
    assert "Free intro call" in confirmation.text and "<dd>Free</dd>" in confirmation.text
    assert "Move or cancel this booking" in confirmation.text  # the token in the link proves who booked
    store = _service(memory_client).store
    assert isinstance(store, MemoryBookingStore)
    (booking,) = store.all_bookings()
    without_token = memory_client.get(f"/booking/success?booking={booking.id}", headers=HTML)
    assert "Your booking is confirmed" in without_token.text
    assert "Move or cancel this booking" not in without_token.text


def test_a_paid_session_on_the_page_still_asks_for_payment(memory_client: TestClient) -> None:
    _with(memory_client)
    page = memory_client.get("/book/mia-free", params={"week": WEEK, "service": "session"}, headers=HTML)
    assert "Continue to payment" in page.text and "Book for free" not in page.text
