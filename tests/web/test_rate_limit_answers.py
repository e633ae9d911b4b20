"""A request over a rate limit is refused with 429 and Retry-After: a browser on a page gets the
error page (HTML), while the API and the calendar feed answer JSON whatever the Accept header."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, ManualClock
from booking_web.app import create_app
from booking_web.settings import Settings
from tests.web.conftest import TEST_CLIENT_URL, memory_builder

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}  # as browsers send


@pytest.fixture
def client(tmp_path: Path, clock: ManualClock, gateway: FakePaymentGateway) -> Iterator[TestClient]:
    """Every limit at one request a minute: the second request is over it."""
    settings = Settings(
        data_dir=tmp_path,
        public_base_url=TEST_CLIENT_URL,
        booking_rate_limit_per_minute=1,
        booking_link_rate_limit_per_minute=1,
        calendar_feed_rate_limit_per_minute=1,
    )
    with TestClient(create_app(settings, build=memory_builder(clock, gateway))) as client:
        yield client


def _assert_refused(response: httpx.Response, media_type: str) -> None:
    assert response.status_code == 429
    assert response.headers["content-type"].split(";")[0] == media_type
    assert int(response.headers["Retry-After"]) >= 1


def _assert_the_error_page(response: httpx.Response, what: str) -> None:
    _assert_refused(response, "text/html")
    assert "Please wait a moment" in response.text
    assert f"Too many {what}. Please wait {response.headers['Retry-After']} seconds" in response.text
    assert "Back to the start" in response.text and 'class="site"' in response.text  # the site's layout
    assert response.headers["Content-Security-Policy"]  # the security headers, as on every page


def _assert_json(response: httpx.Response) -> None:
    _assert_refused(response, "application/json")
    assert response.json()["error"]["code"] == "rate_limited"


def test_a_browser_over_the_limit_on_the_booking_form_gets_the_error_page(client: TestClient) -> None:
    first = client.post("/book/jane-doe", data={"name": "Ann"}, headers=HTML)
    refused = client.post("/book/jane-doe", data={"name": "Ann"}, headers=HTML)

    assert first.status_code != 429
    _assert_the_error_page(refused, "booking attempts")


def test_a_browser_over_the_limit_on_a_booking_s_page_gets_the_error_page(client: TestClient) -> None:
    page = "/booking/bk-guess/manage"
    assert client.get(page, params={"token": "guess-1"}, headers=HTML).status_code != 429

    _assert_the_error_page(
        client.get(page, params={"token": "guess-2"}, headers=HTML), "requests for booking pages"
    )
    _assert_json(client.get(page, params={"token": "guess-3"}))  # a script, not a browser: JSON


def test_the_api_over_the_limit_answers_json_even_to_a_browser(client: TestClient) -> None:
    assert client.post("/api/bookings", json={}, headers=HTML).status_code == 422

    _assert_json(client.post("/api/bookings", json={}, headers=HTML))


def test_the_calendar_feed_over_its_limit_answers_json_even_to_a_browser(client: TestClient) -> None:
    assert client.get("/calendar/guess-1.ics", headers=HTML).status_code == 404

    _assert_json(client.get("/calendar/guess-2.ics", headers=HTML))
