"""The security review's checks, each as a test: headers on every answer, CSRF, cancel tokens,
unguessable ids, the rate limit, webhook signatures, and logs without personal data."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pythonjsonlogger.json import JsonFormatter
from starlette.requests import Request
from starlette.routing import Route

from booking_adapters.stripe import LocalTestGateway, StripeGateway
from booking_adapters.stripe.signing import signature_headers
from booking_adapters.testing.fake_stripe import FakeStripe, running
from booking_web.csrf import PLAIN_COOKIE
from booking_web.logs import RequestIdFilter, log_config
from tests.fuzz.stacks import CLIENT, HTML, Stack, embedded_stack, hidden_fields, memory_stack
from tests.web.conftest import TEST_CLIENT_URL

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


def assert_error(response_json: object, code: str) -> None:
    assert isinstance(response_json, dict) and set(response_json) == {"error"}
    assert response_json["error"]["code"] == code
    assert response_json["error"]["message"]


def assert_security_headers(headers: object, where: str) -> None:
    for name in SECURITY_HEADERS:
        assert name in headers, f"{where}: no {name}"  # type: ignore[operator]
    assert headers["Referrer-Policy"] == "no-referrer", where  # type: ignore[index]  # URLs carry tokens
    csp = headers["Content-Security-Policy"]  # type: ignore[index]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, where
    assert headers["X-Content-Type-Options"] == "nosniff", where  # type: ignore[index]


# -- headers ---------------------------------------------------------------------------------------


def test_every_kind_of_answer_carries_the_security_headers(stack: Stack) -> None:
    created = stack.book()
    big = b"x" * (stack.client.app.state.settings.max_body_bytes + 1)  # type: ignore[attr-defined]
    requests: list[tuple[str, str, dict[str, object]]] = [
        ("GET", "/", {"headers": HTML}),
        ("GET", "/book/jane-doe", {"headers": HTML}),
        ("POST", "/book/jane-doe", {"data": {"name": "x"}, "headers": HTML}),  # 403, CSRF
        ("GET", "/book/nobody", {"headers": HTML}),  # 404 page
        ("GET", "/api/practitioners", {}),
        ("GET", "/api/practitioners/jane-doe/availability", {"params": {"timezone": "Mars/Base"}}),
        ("GET", f"/api/bookings/{created['id']}", {}),
        ("POST", "/api/bookings", {"content": b"{"}),  # 400
        ("POST", "/api/bookings", {"content": big}),  # 413
        ("DELETE", "/api/practitioners", {}),  # 405
        ("GET", "/api/nothing", {}),  # 404
        ("POST", "/api/webhooks/stripe", {"content": b"{}"}),  # 400
        ("GET", "/booking/success", {"params": {"booking": created["id"]}, "headers": HTML}),
        ("GET", "/healthz", {}),
        ("GET", "/readyz", {}),
        ("GET", "/metrics", {}),
        ("GET", "/openapi.json", {}),
        ("GET", "/static/style.css", {}),
    ]
    for method, path, options in requests:
        response = stack.client.request(method, path, follow_redirects=False, **options)  # type: ignore[arg-type]
        assert response.status_code < 500, (method, path, response.status_code)
        assert_security_headers(response.headers, f"{method} {path} -> {response.status_code}")


def test_the_answer_to_an_unexpected_error_carries_them_too(tmp_path: Path) -> None:
    async def broken(request: Request) -> None:
        raise RuntimeError("boom")

    with memory_stack(tmp_path) as stack:
        stack.client.app.router.routes.insert(0, Route("/api/broken", broken))  # type: ignore[attr-defined]
        for headers in ({}, HTML):
            response = stack.client.get("/api/broken", headers=headers)
            assert response.status_code == 500
            assert_security_headers(response.headers, "500")


def test_the_rate_limit_answers_429_in_the_error_shape_on_both_booking_routes(tmp_path: Path) -> None:
    with memory_stack(tmp_path, rate_limit=2) as stack:
        before = stack.snapshot()
        first, second, limited = (stack.client.post("/api/bookings", json={}) for _ in range(3))
        assert (first.status_code, second.status_code, limited.status_code) == (422, 422, 429)
        assert_error(limited.json(), "rate_limited")
        assert int(limited.headers["Retry-After"]) >= 1
        assert_security_headers(limited.headers, "429")
        page = stack.client.post("/book/jane-doe", data={"name": "Ann"}, headers=HTML)
        assert page.status_code == 429  # the form shares the bucket of the address
        assert stack.snapshot() == before


# -- CSRF ------------------------------------------------------------------------------------------


def _open_form(stack: Stack) -> tuple[dict[str, str], str]:
    page = stack.client.get("/book/jane-doe", headers=HTML)
    start = re.search(r'name="start" value="([^"]+)"', page.text)
    assert page.status_code == 200 and start is not None
    return hidden_fields(page.text), start.group(1)


def test_a_form_post_without_or_with_a_forged_csrf_token_is_refused_and_changes_nothing(stack: Stack) -> None:
    fields, start = _open_form(stack)
    form = fields | CLIENT | {"start": start}
    cookie = stack.client.cookies.get(PLAIN_COOKIE)
    assert cookie
    forged = {
        "no token": {k: v for k, v in form.items() if k != "csrf_token"},
        "empty token": form | {"csrf_token": ""},
        "token of another value": form | {"csrf_token": fields["csrf_token"][:-2] + "AA"},
        "the raw cookie as token": form | {"csrf_token": cookie},
    }
    before = stack.snapshot()
    for label, data in forged.items():
        response = stack.client.post("/book/jane-doe", data=data, follow_redirects=False)
        assert response.status_code == 403, label
        assert_error(response.json(), "csrf_rejected")
    stack.client.cookies.delete(PLAIN_COOKIE)  # a cross-site post: the token, but not the cookie
    assert stack.client.post("/book/jane-doe", data=form, follow_redirects=False).status_code == 403
    assert stack.snapshot() == before
    stack.client.cookies.set(PLAIN_COOKIE, cookie)
    accepted = stack.client.post("/book/jane-doe", data=form, follow_redirects=False)
    assert accepted.status_code == 303  # the same form with its token books: the refusals were CSRF
    assert stack.snapshot() != before


def test_a_form_from_another_origin_is_refused_even_with_its_token_and_cookie(stack: Stack) -> None:
    fields, start = _open_form(stack)
    form = fields | CLIENT | {"start": start}
    before = stack.snapshot()
    elsewhere = (
        {"Origin": "https://evil.example"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "https://testserver"},  # another scheme is another origin
        {"Referer": "https://evil.example/page"},  # no Origin: the Referer's origin decides
        {"Origin": "null", "Referer": "https://evil.example/"},
    )
    for headers in elsewhere:
        response = stack.client.post("/book/jane-doe", data=form, headers=headers, follow_redirects=False)
        assert response.status_code == 403, headers
        assert_error(response.json(), "csrf_rejected")
    assert stack.snapshot() == before
    # Referrer-Policy: no-referrer makes browsers send `Origin: null`: then the token decides
    for headers in (
        {"Origin": "http://testserver"},
        {"Origin": "null"},
        {"Referer": "http://testserver/book/x"},
    ):
        fields, start = _open_form(stack)
        booked = stack.client.post(
            "/book/jane-doe", data=fields | CLIENT | {"start": start}, headers=headers, follow_redirects=False
        )
        assert booked.status_code == 303, headers


def test_the_cancel_form_and_the_test_payment_button_check_the_origin(embedded: Stack) -> None:
    created = embedded.book()
    page = embedded.client.get(f"/booking/{created['id']}/cancel", params={"token": created["cancel_token"]})
    form = hidden_fields(page.text)
    foreign = {"Origin": "https://evil.example"}
    assert (
        embedded.client.post(f"/booking/{created['id']}/cancel", data=form, headers=foreign).status_code
        == 403
    )
    pay = f"/test-payments/{created['checkout_session_id']}/pay"
    assert embedded.client.post(pay, headers=foreign, follow_redirects=False).status_code == 403
    assert embedded.client.get(f"/api/bookings/{created['id']}").json()["status"] == "pending_payment"
    assert embedded.client.post(pay, follow_redirects=False).status_code == 303


def test_the_csrf_cookie_is_a_host_cookie_over_https_and_plain_over_http(tmp_path: Path) -> None:
    with memory_stack(tmp_path / "https", public_base_url="https://testserver") as secure:
        page = secure.client.get("/book/jane-doe", headers=HTML)
        cookie = page.headers["set-cookie"]
        assert cookie.startswith("__Host-booking_csrf=")
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"secure", "httponly", "path"} <= attributes and "domain" not in attributes
        assert "path=/;" in cookie.lower() + ";"
        fields, start = _open_form(secure)
        booked = secure.client.post(
            "/book/jane-doe",
            data=fields | CLIENT | {"start": start},
            headers={"Origin": "https://testserver"},
            follow_redirects=False,
        )
        assert booked.status_code == 303, booked.text  # the Secure cookie came back over https
    with memory_stack(tmp_path / "http") as plain:
        cookie = plain.client.get("/book/jane-doe", headers=HTML).headers["set-cookie"]
        assert cookie.startswith(f"{PLAIN_COOKIE}=") and "secure" not in cookie.lower()


def test_cancelling_needs_the_token_and_the_csrf_token(stack: Stack) -> None:
    created = stack.book()
    path = f"/api/bookings/{created['id']}/cancel"
    before = stack.snapshot()
    for wrong in ("", "0" * 64, str(created["cancel_token"]).upper(), str(created["cancel_token"])[:-1]):
        response = stack.client.post(path, json={"cancel_token": wrong})
        assert response.status_code == 403, wrong
        assert_error(response.json(), "invalid_cancel_token")
    page = stack.client.get(f"/booking/{created['id']}/cancel", params={"token": created["cancel_token"]})
    form = hidden_fields(page.text)
    forged = stack.client.post(
        f"/booking/{created['id']}/cancel", data=form | {"csrf_token": "forged"}, headers=HTML
    )
    assert forged.status_code == 403
    wrong_token = stack.client.post(f"/booking/{created['id']}/cancel", data=form | {"token": "0" * 64})
    assert wrong_token.status_code == 403
    assert stack.snapshot() == before
    assert stack.client.get(f"/api/bookings/{created['id']}").json()["status"] == "pending_payment"
    cancelled = stack.client.post(path, json={"cancel_token": created["cancel_token"]})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


# -- cross-site requests to the JSON API -----------------------------------------------------------


def test_json_api_bodies_must_be_sent_as_json_so_other_sites_cannot_post_them(stack: Stack) -> None:
    """A page on any site may make its visitors' browsers POST text/plain or form bodies without a
    CORS preflight; only application/json needs one (which this service never grants)."""
    created = stack.book()
    start = stack.free_starts()[0]
    body = json.dumps({"practitioner_id": "jane-doe", "start": start} | CLIENT)
    cancel = json.dumps({"cancel_token": created["cancel_token"]})
    before = stack.snapshot()
    for path, content in (("/api/bookings", body), (f"/api/bookings/{created['id']}/cancel", cancel)):
        for content_type in (
            "text/plain",
            "text/plain;charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            None,
        ):
            headers = {"Content-Type": content_type} if content_type else {}
            response = stack.client.post(path, content=content, headers=headers)
            assert response.status_code == 415, (path, content_type, response.text)
            assert_error(response.json(), "unsupported_media_type")
            assert "application/json" in response.json()["error"]["message"]
    assert stack.snapshot() == before
    sent_as_json = {"Content-Type": "Application/JSON; charset=utf-8"}
    assert stack.client.post("/api/bookings", content=body, headers=sent_as_json).status_code == 201


# -- enumeration -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with embedded_stack(tmp_path_factory.mktemp("embedded")) as stack:
        yield stack


def test_booking_ids_carry_128_random_bits_and_cancel_tokens_are_never_stored(embedded: Stack) -> None:
    created = [embedded.book() for _ in range(6)]
    ids = [str(c["id"]) for c in created]
    assert len(set(ids)) == len(ids)
    for booking_id in ids:
        assert len(base64.urlsafe_b64decode(booking_id + "==")) >= 16
    tokens = [str(c["cancel_token"]) for c in created]
    assert all(re.fullmatch(r"[0-9a-f]{64}", token) for token in tokens)  # HMAC-SHA256
    stored = repr(embedded.snapshot())
    assert not any(token in stored for token in tokens)  # only their hashes are kept


def test_a_booking_read_by_id_shows_no_contact_details(stack: Stack) -> None:
    created = stack.book(name="Zed Quill", email="zed.quill@example.org", phone="+44 20 7946 0958")
    response = stack.client.get(f"/api/bookings/{created['id']}")
    assert response.status_code == 200
    assert set(response.json()) == {
        "id", "status", "start", "end", "timezone", "hold_expires_at", "price", "practitioner", "service",
    }  # fmt: skip
    for personal in ("Zed Quill", "zed.quill", "7946", "+442079460958", str(created["cancel_token"])):
        assert personal not in response.text


# -- webhooks --------------------------------------------------------------------------------------


def _webhook_secret(stack: Stack) -> str:
    return (stack.data_dir / "webhook_secret").read_text().strip()


def test_forged_stale_tampered_or_unsigned_webhooks_are_400_and_change_nothing(embedded: Stack) -> None:
    created = embedded.book()
    gateway = embedded.client.app.state.booking.payments  # type: ignore[attr-defined]
    assert isinstance(gateway, LocalTestGateway)
    genuine = gateway.pay(str(created["checkout_session_id"]))  # signed, but not delivered yet
    secret = _webhook_secret(embedded)
    attempts = {
        "forged": (genuine.payload, signature_headers(genuine.payload, "whsec_fake_attacker")),
        "stale": (
            genuine.payload,
            signature_headers(genuine.payload, secret, timestamp=int(time.time()) - 900),
        ),
        "tampered": (genuine.payload.replace(b'"paid"', b'"unpaid"'), genuine.headers),
        "unsigned": (genuine.payload, {"content-type": "application/json"}),
        "garbage header": (genuine.payload, {"stripe-signature": "t=x,v1=\x7f"}),
    }
    before = embedded.snapshot()
    for label, (payload, headers) in attempts.items():
        response = embedded.client.post("/api/webhooks/stripe", content=payload, headers=headers)
        assert response.status_code == 400, label
        assert_error(response.json(), "invalid_signature")
    assert embedded.snapshot() == before
    delivered = embedded.client.post("/api/webhooks/stripe", content=genuine.payload, headers=genuine.headers)
    assert delivered.json()["outcome"] == "confirmed"  # the same event, truly signed, is accepted


# -- logs ------------------------------------------------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The production logging at LOG_LEVEL=DEBUG (its JSON formatter and its per-logger levels) on
    the root logger, for the length of a test."""
    config = log_config("DEBUG")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter = config["formatters"]["json"]
    handler.setFormatter(JsonFormatter(formatter["fmt"], rename_fields=formatter["rename_fields"]))
    handler.addFilter(RequestIdFilter())
    loggers = {name: logging.getLogger(name) for name in ("", *config["loggers"])}
    levels = {name: logger.level for name, logger in loggers.items()}
    for name, options in config["loggers"].items():
        loggers[name].setLevel(options.get("level", levels[name]))
    loggers[""].setLevel(logging.DEBUG)
    loggers[""].addHandler(handler)
    yield stream
    loggers[""].removeHandler(handler)
    for name, level in levels.items():
        loggers[name].setLevel(level)


def test_the_logs_of_a_whole_booking_hold_no_personal_data(embedded: Stack, json_log: io.StringIO) -> None:
    """Regression: at LOG_LEVEL=DEBUG, aiosqlite logged every INSERT with the client's name, e-mail
    and phone (found with this very flow)."""
    personal = {"name": "Quentin Zebulon", "email": "quentin.zebulon@example.net", "phone": "+1 212 555 0187"}
    created = embedded.book("sam-lee", **personal)
    session = str(created["checkout_session_id"])
    paid = embedded.client.post(f"/test-payments/{session}/pay", follow_redirects=True, headers=HTML)
    assert paid.status_code == 200 and "confirmed" in paid.text.lower()
    embedded.deliver_outbox()
    cancel_page = embedded.client.get(
        f"/booking/{created['id']}/cancel", params={"token": created["cancel_token"]}, headers=HTML
    )
    embedded.client.post(f"/booking/{created['id']}/cancel", data=hidden_fields(cancel_page.text))
    embedded.deliver_outbox()
    assert embedded.client.get(f"/api/bookings/{created['id']}").json()["status"] != "confirmed"

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert any(line.get("logger") == "booking_web.access" for line in lines)  # the capture works
    text = json.dumps([line for line in lines if line.get("logger") != "httpx"]).lower()  # not the client's
    for secret in (*personal.values(), "quentin", "zebulon", "2125550187", str(created["cancel_token"])):
        assert secret.lower() not in text, secret


def test_the_stripe_and_http_client_logs_of_a_booking_hold_no_personal_data(
    tmp_path: Path, json_log: io.StringIO
) -> None:
    """Regression: at LOG_LEVEL=DEBUG the Stripe SDK logged each request body (the client's e-mail),
    and httpx/httpcore each call; their loggers are capped whatever LOG_LEVEL says."""
    personal = {"name": "Quentin Zebulon", "email": "quentin.zebulon@example.net", "phone": "+1 212 555 0187"}
    fake = FakeStripe()
    with running(fake) as stripe_url:
        gateway = StripeGateway(
            "sk_test_fake_logs", fake.webhook_secret, TEST_CLIENT_URL, api_base=stripe_url
        )
        with memory_stack(tmp_path, payments=gateway) as stack:
            created = stack.book("sam-lee", **personal)
    assert str(created["checkout_url"]).startswith(fake.checkout_page)
    assert any(
        personal["email"] in json.dumps(request.params) for request in fake.requests
    )  # it did go to Stripe

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert any(line.get("logger") == "stripe" for line in lines)  # the SDK's INFO lines are kept
    text = json.dumps(lines).lower()
    for secret in (*personal.values(), "quentin", "zebulon", "2125550187"):
        assert secret.lower() not in text, secret
