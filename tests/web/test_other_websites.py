"""Other websites (ALLOWED_ORIGINS): CORS on the JSON API only, the booking pages framable by those
origins only, /embed.js, and the booking form inside a frame where the browser keeps no cookie."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, ManualClock
from booking_web.app import create_app
from booking_web.settings import ConfigurationError, Settings
from tests.web.conftest import TEST_CLIENT_URL, memory_builder
from tests.web.test_api import book, first_slot
from tests.web.test_pages import HTML, open_form, submit

SITE = "https://www.jane-doe.example"
OTHER_SITE = "https://elsewhere.example"
PREFLIGHT = {
    "Origin": SITE,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type, idempotency-key",
}


@pytest.fixture
def embedding_client(tmp_path: Path, clock: ManualClock, gateway: FakePaymentGateway) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path,
        booking_rate_limit_per_minute=1000,
        public_base_url=TEST_CLIENT_URL,
        allowed_origins=(SITE, "http://127.0.0.1:9000"),
    )
    with TestClient(create_app(settings, build=memory_builder(clock, gateway))) as client:
        yield client


def test_allowed_origins_are_read_as_browsers_send_them() -> None:
    settings = Settings.from_env(
        {"ALLOWED_ORIGINS": " https://WWW.Jane-Doe.example/, http://127.0.0.1:9000 ,"}
    )
    assert settings.allowed_origins == (SITE, "http://127.0.0.1:9000")
    assert Settings.from_env({}).allowed_origins == ()


@pytest.mark.parametrize("wrong", ["*", "www.example.org", "https://example.org/book", "ftp://example.org"])
def test_a_value_that_is_not_an_origin_is_a_problem_naming_the_variable(wrong: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({"ALLOWED_ORIGINS": f"{SITE},{wrong}"})
    (problem,) = refused.value.problems
    assert problem.startswith("ALLOWED_ORIGINS:") and repr(wrong) in problem


def test_a_preflight_from_an_allowed_origin_is_answered(embedding_client: TestClient) -> None:
    response = embedding_client.options("/api/bookings", headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert {"POST", "GET"} <= set(response.headers["Access-Control-Allow-Methods"].split(", "))
    allowed_headers = response.headers["Access-Control-Allow-Headers"].lower()
    assert "idempotency-key" in allowed_headers and "content-type" in allowed_headers
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_preflight_from_another_origin_is_refused(embedding_client: TestClient) -> None:
    response = embedding_client.options("/api/bookings", headers=PREFLIGHT | {"Origin": OTHER_SITE})
    assert response.status_code == 400
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_booking_from_an_allowed_origin_may_be_read_by_its_page(embedding_client: TestClient) -> None:
    start = first_slot(embedding_client)
    answer = book(embedding_client, start, headers={"Origin": SITE, "Idempotency-Key": "embed-1"})
    assert answer.status_code == 201
    assert answer.headers["Access-Control-Allow-Origin"] == SITE
    assert "Location" in answer.headers["Access-Control-Expose-Headers"]
    assert "Origin" in answer.headers["Vary"]


def test_another_origins_page_gets_no_permission_to_read(embedding_client: TestClient) -> None:
    listing = embedding_client.get("/api/practitioners", headers={"Origin": OTHER_SITE})
    assert listing.status_code == 200
    assert "Access-Control-Allow-Origin" not in listing.headers


def test_refusals_carry_the_permission_too(embedding_client: TestClient) -> None:
    missing = embedding_client.get("/api/bookings/nobody", headers={"Origin": SITE})
    assert missing.status_code == 404
    assert missing.headers["Access-Control-Allow-Origin"] == SITE


def test_pages_get_no_cors(embedding_client: TestClient) -> None:
    page = embedding_client.get("/book/jane-doe", headers={"Origin": SITE} | HTML)
    assert "Access-Control-Allow-Origin" not in page.headers
    preflight = embedding_client.options("/book/jane-doe", headers=PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_without_allowed_origins_the_api_answers_no_cors(memory_client: TestClient) -> None:
    preflight = memory_client.options("/api/bookings", headers=PREFLIGHT)
    assert preflight.status_code == 405
    listing = memory_client.get("/api/practitioners", headers={"Origin": SITE})
    assert "Access-Control-Allow-Origin" not in listing.headers


def _ancestors(client: TestClient, path: str) -> str:
    response = client.get(path, headers=HTML, follow_redirects=False)
    policy = response.headers["Content-Security-Policy"]
    (directive,) = [part.strip() for part in policy.split(";") if part.strip().startswith("frame-ancestors")]
    return directive


@pytest.mark.parametrize(
    "path",
    [
        "/book/jane-doe",
        "/booking/success?booking=b1",
        "/booking/cancelled",
        "/booking/b1/cancel?token=x",
        "/booking/b1/manage?token=x",
    ],
)
def test_the_booking_pages_may_be_framed_by_the_allowed_origins(
    embedding_client: TestClient, path: str
) -> None:
    assert _ancestors(embedding_client, path) == f"frame-ancestors {SITE} http://127.0.0.1:9000"
    assert "X-Frame-Options" not in embedding_client.get(path, headers=HTML).headers


@pytest.mark.parametrize("path", ["/", "/practitioner/login", "/api/practitioners", "/embed.js", "/healthz"])
def test_every_other_page_may_be_framed_by_nobody(embedding_client: TestClient, path: str) -> None:
    assert _ancestors(embedding_client, path) == "frame-ancestors 'none'"
    assert embedding_client.get(path, headers=HTML).headers["X-Frame-Options"] == "DENY"


def test_without_allowed_origins_no_page_may_be_framed(memory_client: TestClient) -> None:
    assert _ancestors(memory_client, "/book/jane-doe") == "frame-ancestors 'none'"


def test_the_embed_script_is_served_as_javascript(memory_client: TestClient) -> None:
    script = memory_client.get("/embed.js")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert "max-age" in script.headers["Cache-Control"]
    assert "data-booking-page" in script.text and "event.origin !== origin" in script.text


def test_a_paid_booking_form_is_marked_to_leave_the_frame_for_checkout(embedding_client: TestClient) -> None:
    page = embedding_client.get("/book/jane-doe", headers=HTML)
    assert 'class="booking"' in page.text and "data-checkout" in page.text


def test_a_framed_form_without_its_cookie_is_taken_from_our_own_page(
    embedding_client: TestClient, gateway: FakePaymentGateway
) -> None:
    """A third-party frame keeps no cookie: the browser's word that our own page sent the form, with
    a token we signed, stands in for it. Another site's page cannot say so."""
    fields, start = open_form(embedding_client)
    embedding_client.cookies.clear()
    from_elsewhere = embedding_client.post(
        "/book/jane-doe",
        data=fields
        | {"start": start, "name": "Ann Example", "email": "a@example.com", "phone": "+4930123456"},
        headers=HTML | {"Sec-Fetch-Site": "cross-site"},
        follow_redirects=False,
    )
    assert from_elsewhere.status_code == 403
    forged = embedding_client.post(
        "/book/jane-doe",
        data=fields | {"csrf_token": "forged", "start": start},
        headers=HTML | {"Sec-Fetch-Site": "same-origin"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    framed = embedding_client.post(
        "/book/jane-doe",
        data=fields
        | {"start": start, "name": "Ann Example", "email": "a@example.com", "phone": "+4930123456"},
        headers=HTML | {"Sec-Fetch-Site": "same-origin"},
        follow_redirects=False,
    )
    assert framed.status_code == 303
    assert len(gateway.sessions) == 1


def test_with_its_cookie_a_form_still_needs_the_matching_token(embedding_client: TestClient) -> None:
    fields, start = open_form(embedding_client)
    embedding_client.cookies.set("booking_csrf", "another-value")
    response = submit(embedding_client, fields, start=start)
    assert response.status_code == 403
