"""Every error has the one shape; the safety layers (headers, size limit, rate limit, logs) hold."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, ManualClock
from booking_web.app import create_app
from booking_web.settings import Settings
from tests.web.conftest import TEST_CLIENT_URL, memory_builder

BOOKING = {
    "practitioner_id": "jane-doe",
    "start": "2030-01-14T09:00:00+01:00",
    "name": "Ann Example",
    "email": "ann@example.com",
    "phone": "+49 30 1234567",
}


def assert_error_shape(body: object, code: str) -> None:
    assert isinstance(body, dict)
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_a_body_that_is_not_json_is_400(memory_client: TestClient) -> None:
    response = memory_client.post(
        "/api/bookings", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert_error_shape(response.json(), "malformed_body")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ([1, 2], {"body"}),
        ({"practitioner_id": 7, "start": "tomorrow"}, {"practitioner_id", "start", "name", "email", "phone"}),
        (BOOKING | {"start": "2030-01-14T09:00:00"}, {"start"}),
    ],
)
def test_json_of_the_wrong_shape_is_422_naming_the_fields(
    memory_client: TestClient, body: object, fields: set[str]
) -> None:
    response = memory_client.post("/api/bookings", json=body)
    assert response.status_code == 422
    assert_error_shape(
        {"error": {k: v for k, v in response.json()["error"].items() if k != "fields"}}, "invalid_input"
    )
    assert set(response.json()["error"]["fields"]) == fields


def test_a_body_over_the_limit_is_413(memory_client: TestClient, settings: Settings) -> None:
    too_big = b"x" * (settings.max_body_bytes + 1)
    declared = memory_client.post("/api/bookings", content=too_big)
    assert declared.status_code == 413
    assert_error_shape(declared.json(), "body_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts what arrives
        yield too_big[: settings.max_body_bytes]
        yield too_big[settings.max_body_bytes :]

    as_json = {"Content-Type": "application/json"}  # else the media type is refused first (415)
    streamed = memory_client.post("/api/bookings", content=chunks(), headers=as_json)
    assert streamed.status_code == 413
    assert_error_shape(streamed.json(), "body_too_large")


@pytest.mark.parametrize(
    "path", ["/api/practitioners/nobody", "/api/bookings/unknown-id", "/api/nothing-here"]
)
def test_unknown_ids_and_paths_are_404(memory_client: TestClient, path: str) -> None:
    response = memory_client.get(path)
    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


def test_a_wrong_method_has_the_error_shape_too(memory_client: TestClient) -> None:
    response = memory_client.delete("/api/practitioners")
    assert response.status_code == 405
    assert_error_shape(response.json(), "method_not_allowed")


def test_security_headers_and_request_id(memory_client: TestClient) -> None:
    response = memory_client.get("/healthz", headers={"X-Request-ID": "trace-12345678"})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Request-ID"] == "trace-12345678"
    assert "Strict-Transport-Security" not in response.headers  # http: no HSTS
    odd = memory_client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert odd.headers["X-Request-ID"] != "<script>"


def test_booking_creation_is_rate_limited_per_address(
    tmp_path: Path, clock: ManualClock, gateway: FakePaymentGateway
) -> None:
    app = create_app(
        Settings(data_dir=tmp_path, booking_rate_limit_per_minute=2, public_base_url=TEST_CLIENT_URL),
        build=memory_builder(clock, gateway),
    )
    with TestClient(app) as client:
        answers = [client.post("/api/bookings", json={}).status_code for _ in range(3)]
        assert answers == [422, 422, 429]
        limited = client.post("/api/bookings", json={})
        assert_error_shape(limited.json(), "rate_limited")
        assert int(limited.headers["Retry-After"]) >= 1
        assert client.get("/api/practitioners").status_code == 200  # reading is not limited


def test_an_unexpected_error_is_500_with_an_id_logged_once(
    tmp_path: Path, clock: ManualClock, gateway: FakePaymentGateway, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(request: Request) -> None:
        raise RuntimeError("secret internals")

    app = create_app(
        Settings(data_dir=tmp_path, public_base_url=TEST_CLIENT_URL), build=memory_builder(clock, gateway)
    )
    app.router.routes.insert(0, Route("/api/broken", broken))
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        response = client.get("/api/broken")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert error["id"] in error["message"]
    assert "secret internals" not in response.text and "Traceback" not in response.text
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(logged) == 1
    assert error["id"] in logged[0].getMessage()


def test_logs_carry_no_personal_data(memory_client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        created = memory_client.post("/api/bookings", json=BOOKING).json()
        memory_client.get(f"/booking/{created['id']}/cancel", params={"token": created["cancel_token"]})
    served = [r for r in caplog.records if r.name != "httpx"]  # the test client's own log
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in served)
    assert "booking_web.access" in {r.name for r in caplog.records}
    for personal in ("Ann Example", "ann@example.com", "1234567", created["cancel_token"]):
        assert personal not in text


def test_without_the_access_log_requests_log_nothing_but_are_counted(
    tmp_path: Path, clock: ManualClock, gateway: FakePaymentGateway, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(
        Settings(data_dir=tmp_path, access_log=False, public_base_url=TEST_CLIENT_URL),
        build=memory_builder(clock, gateway),
    )
    with TestClient(app) as client, caplog.at_level(logging.DEBUG):
        assert client.get("/api/practitioners").status_code == 200
        metrics = client.get("/metrics").text
    assert "booking_web.access" not in {r.name for r in caplog.records}
    assert 'http_requests_total{method="GET",route="/api/practitioners",status="200"} 1.0' in metrics


def test_metrics_count_requests_by_route_and_transitions(
    memory_client: TestClient, gateway: FakePaymentGateway
) -> None:
    memory_client.get("/api/practitioners/jane-doe")
    created = memory_client.post("/api/bookings", json=BOOKING).json()
    memory_client.post(
        f"/api/bookings/{created['id']}/cancel", json={"cancel_token": created["cancel_token"]}
    )
    gateway.failing = True
    memory_client.post("/api/bookings", json=BOOKING | {"start": "2030-01-14T10:00:00+01:00"})
    text = memory_client.get("/metrics").text
    assert (
        'http_requests_total{method="GET",route="/api/practitioners/{practitioner_id}",status="200"} 1.0'
        in text
    )
    assert (
        'booking_transitions_total{from_status="pending_payment",to_status="cancelled",trigger="cancelled"}'
        in text
    )
    assert 'provider_errors_total{provider="payments"} 1.0' in text


def test_openapi_describes_every_api_route(memory_client: TestClient) -> None:
    document = memory_client.get("/openapi.json").json()
    routes = {
        route.path for route in memory_client.app.routes if getattr(route, "path", "").startswith("/api/")
    }  # type: ignore[attr-defined]
    assert routes <= set(document["paths"])
    assert document["components"]["schemas"]["Error"]["required"] == ["error"]
