"""The booking pages over the fakes: the form, CSRF, the pages Checkout returns to, cancelling."""

from __future__ import annotations

import re

import attrs
import httpx
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, ManualClock
from booking_web.app import create_app
from booking_web.settings import Settings
from tests.web.conftest import memory_builder

HTML = {"Accept": "text/html"}
WEEK = "2030-01-14"


def form_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def open_form(client: TestClient) -> tuple[dict[str, str], str]:
    page = client.get("/book/jane-doe", params={"week": WEEK, "tz": "Europe/Berlin"}, headers=HTML)
    assert page.status_code == 200
    first_start = re.search(r'name="start" value="([^"]+)"', page.text)
    assert first_start is not None
    return form_fields(page.text), first_start.group(1)


def submit(client: TestClient, fields: dict[str, str], **values: str) -> httpx.Response:
    data = fields | {"name": "Ann Example", "email": "ann@example.com", "phone": "+49 30 1234567"} | values
    return client.post("/book/jane-doe", data=data, headers=HTML, follow_redirects=False)


def test_the_home_page_lists_the_demo_practitioners(memory_client: TestClient) -> None:
    page = memory_client.get("/", headers=HTML)
    assert 'href="http://testserver/book/jane-doe"' in page.text
    assert "Sam Lee, Career Coach" in page.text


def test_the_week_shows_slots_grouped_by_day_in_the_chosen_zone(memory_client: TestClient) -> None:
    berlin = memory_client.get("/book/jane-doe", params={"week": WEEK, "tz": "Europe/Berlin"}, headers=HTML)
    assert "Monday 14 January" in berlin.text
    assert 'value="2030-01-14T09:00:00+01:00"' in berlin.text
    tokyo = memory_client.get("/book/jane-doe", params={"week": WEEK, "tz": "Asia/Tokyo"}, headers=HTML)
    assert 'value="2030-01-14T17:00:00+09:00"' in tokyo.text
    assert "Previous week" in tokyo.text and "Next week" in tokyo.text


def test_the_cancellation_policy_is_stated_before_the_pay_step(memory_client: TestClient) -> None:
    page = memory_client.get("/book/jane-doe", params={"week": WEEK}, headers=HTML).text
    terms = "Full refund if you cancel at least 24 hours before the session; after that, no refund."
    assert terms in page
    assert page.index(terms) < page.index("Continue to payment")


def test_the_form_states_what_is_done_with_the_clients_details(memory_client: TestClient) -> None:
    page = memory_client.get("/book/jane-doe", params={"week": WEEK}, headers=HTML).text
    notice = "Your name, e-mail address and phone number go to the practitioner, only to arrange this session"
    assert notice in page and page.index('name="phone"') < page.index(notice) < page.index(
        "Continue to payment"
    )
    assert "Privacy notice</a>" not in page  # no PRIVACY_NOTICE_URL: no link


def test_the_privacy_notice_and_its_link_are_configurable(settings: Settings, clock: ManualClock) -> None:
    ours = attrs.evolve(
        settings,
        privacy_notice="Details <kept> a year.",
        privacy_notice_url="https://example.org/privacy?a=1&b=2",
    )
    with TestClient(create_app(ours, build=memory_builder(clock, FakePaymentGateway()))) as client:
        page = client.get("/book/jane-doe", params={"week": WEEK}, headers=HTML).text
    assert "Details &lt;kept&gt; a year." in page
    assert '<a href="https://example.org/privacy?a=1&amp;b=2">Privacy notice</a>' in page


def test_submitting_redirects_to_checkout(memory_client: TestClient, gateway: FakePaymentGateway) -> None:
    fields, start = open_form(memory_client)
    response = submit(memory_client, fields, start=start)
    assert response.status_code == 303
    session_id = next(iter(gateway.sessions))
    assert response.headers["location"] == f"https://pay.invalid/{session_id}"


def test_a_double_click_books_once(memory_client: TestClient, gateway: FakePaymentGateway) -> None:
    fields, start = open_form(memory_client)
    first = submit(memory_client, fields, start=start)
    second = submit(memory_client, fields, start=start)
    assert first.headers["location"] == second.headers["location"]
    assert len(gateway.sessions) == 1


def test_a_form_without_a_valid_csrf_token_is_refused(memory_client: TestClient) -> None:
    fields, start = open_form(memory_client)
    forged = submit(memory_client, fields | {"csrf_token": "forged"}, start=start)
    assert forged.status_code == 403
    memory_client.cookies.clear()
    no_cookie = submit(memory_client, fields, start=start)
    assert no_cookie.status_code == 403
    assert "reload the page" in no_cookie.text


def test_invalid_details_come_back_inline_with_the_values_kept(memory_client: TestClient) -> None:
    fields, start = open_form(memory_client)
    page = submit(memory_client, fields, start=start, email="nope")
    assert page.status_code == 422
    assert 'id="email-error"' in page.text
    assert 'value="Ann Example"' in page.text
    missing_time = submit(memory_client, fields)
    assert "Please choose a time." in missing_time.text


def held_through_the_form(client: TestClient, gateway: FakePaymentGateway) -> tuple[str, str]:
    """Book the first slot on the page: (booking id, checkout session id)."""
    fields, start = open_form(client)
    submit(client, fields, start=start)
    session_id = next(iter(gateway.sessions))
    return gateway.sessions[session_id].booking_id, session_id


def test_success_page_waits_for_payment_then_confirms(
    memory_client: TestClient, gateway: FakePaymentGateway
) -> None:
    booking_id, session_id = held_through_the_form(memory_client, gateway)
    params = {"booking": booking_id, "session_id": session_id}

    waiting = memory_client.get("/booking/success", params=params, headers=HTML)
    assert "Payment processing" in waiting.text
    assert 'http-equiv="refresh"' in waiting.text

    payload, headers = gateway.sign(gateway.pay(session_id))
    assert memory_client.post("/api/webhooks/stripe", content=payload, headers=headers).status_code == 200
    confirmed = memory_client.get("/booking/success", params=params, headers=HTML)
    assert "Your booking is confirmed" in confirmed.text
    assert "Move or cancel this booking" in confirmed.text
    stranger = memory_client.get("/booking/success", params={"booking": booking_id}, headers=HTML)
    assert "Move or cancel this booking" not in stranger.text  # no session id, no link to the booking


def test_success_page_confirms_a_payment_whose_webhook_is_lost(
    memory_client: TestClient, gateway: FakePaymentGateway
) -> None:
    booking_id, session_id = held_through_the_form(memory_client, gateway)
    gateway.pay(session_id)  # Stripe's webhook is late, or lost

    forged = memory_client.get(
        "/booking/success", params={"booking": booking_id, "session_id": "cs_forged"}, headers=HTML
    )
    back = memory_client.get(
        "/booking/success", params={"booking": booking_id, "session_id": session_id}, headers=HTML
    )

    assert "Payment processing" in forged.text
    assert "Your booking is confirmed" in back.text
    assert memory_client.get(f"/api/bookings/{booking_id}").json()["status"] == "confirmed"


def test_cancelling_through_the_link(memory_client: TestClient, gateway: FakePaymentGateway) -> None:
    created = memory_client.post(
        "/api/bookings",
        json={
            "practitioner_id": "jane-doe",
            "start": "2030-01-14T09:00:00+01:00",
            "name": "Ann Example",
            "email": "ann@example.com",
            "phone": "+49 30 1234567",
        },
    ).json()
    url = f"/booking/{created['id']}/cancel"
    assert memory_client.get(url, params={"token": "wrong"}, headers=HTML).status_code == 403
    confirm = memory_client.get(url, params={"token": created["cancel_token"]}, headers=HTML)
    assert "Cancel your booking?" in confirm.text
    done = memory_client.post(url, data=form_fields(confirm.text), headers=HTML)
    assert "Your booking is cancelled" in done.text
    assert memory_client.get(f"/api/bookings/{created['id']}").json()["status"] == "cancelled"


def test_the_checkout_cancelled_page(memory_client: TestClient) -> None:
    assert "You have not been charged" in memory_client.get("/booking/cancelled", headers=HTML).text


def test_page_errors_are_html(memory_client: TestClient) -> None:
    response = memory_client.get("/book/nobody", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is no practitioner" in response.text
