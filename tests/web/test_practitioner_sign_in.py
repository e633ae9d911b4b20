"""Practitioners sign in without a password (issue 15 item 1), over the fakes and SQLite: the
e-mailed one-time link, the session cookie, signing out, the rate limits; and the API's bearer
tokens, with 401 in the error shape."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.responses import Response
from starlette.testclient import TestClient

from booking_adapters.memory import ManualClock
from booking_core import SIGN_IN_LINK_LIFETIME
from booking_web.session_cookie import SessionCookie
from booking_web.settings import Settings
from booking_web.sign_in import LINKS_PER_ADDRESS, REQUESTS_PER_CLIENT
from tests.web.practitioner_sign_in import (
    HTML,
    SAM,
    api_token,
    ask_for_link,
    bearer,
    follow_link,
    hidden_fields,
    mailed_link,
    mails,
    revoke_tokens,
    sign_in,
    text_of,
    with_emails,
)

JANE_EMAIL = "jane.doe@example.org"


@pytest.fixture
def practitioners(client: TestClient) -> TestClient:
    with_emails(client)
    return client


def _without_form_tokens(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


def test_a_known_and_an_unknown_address_get_the_same_answer(
    practitioners: TestClient, settings: Settings
) -> None:
    known = ask_for_link(practitioners, JANE_EMAIL)
    unknown = ask_for_link(practitioners, "nobody@example.org")
    assert "a sign-in link is on its way" in known
    assert _without_form_tokens(known).replace(JANE_EMAIL, "ADDRESS") == _without_form_tokens(
        unknown
    ).replace("nobody@example.org", "ADDRESS")
    [mail] = mails(settings.mailbox_dir)  # only the practitioner's address receives one
    assert JANE_EMAIL in str(mail["To"])
    assert mail["Subject"] == "Your sign-in link"


def test_the_address_is_compared_without_case(practitioners: TestClient, settings: Settings) -> None:
    ask_for_link(practitioners, "  Jane.Doe@Example.ORG ")
    assert mailed_link(settings.mailbox_dir, JANE_EMAIL)


def test_the_link_signs_in_once(practitioners: TestClient, settings: Settings) -> None:
    ask_for_link(practitioners, JANE_EMAIL)
    link = mailed_link(settings.mailbox_dir, JANE_EMAIL)
    follow_link(practitioners, link)
    home = practitioners.get("/practitioner", headers=HTML)
    assert home.status_code == 200
    assert "Dr. Jane Doe" in home.text

    again = practitioners.get(link, headers=HTML)
    assert again.status_code == 400
    assert "does not work any more" in again.text
    token = parse_qs(urlsplit(link).query)["token"][0]
    form = hidden_fields(practitioners.get("/practitioner/login", headers=HTML).text)
    posted = practitioners.post("/practitioner/sign-in", data=form | {"token": token}, headers=HTML)
    assert posted.status_code == 400


def test_opening_the_link_does_not_use_it_up(practitioners: TestClient, settings: Settings) -> None:
    """Mail scanners open links: only the button on the page signs in."""
    ask_for_link(practitioners, JANE_EMAIL)
    link = mailed_link(settings.mailbox_dir, JANE_EMAIL)
    assert practitioners.get(link, headers=HTML).status_code == 200
    assert practitioners.get(link, headers=HTML).status_code == 200
    follow_link(practitioners, link)
    assert practitioners.get("/practitioner", headers=HTML).status_code == 200


def test_the_link_expires_after_15_minutes(
    practitioners: TestClient, settings: Settings, clock: ManualClock
) -> None:
    ask_for_link(practitioners, JANE_EMAIL)
    link = mailed_link(settings.mailbox_dir, JANE_EMAIL)
    assert "within 15 minutes" in text_of(mails(settings.mailbox_dir)[0])
    clock.advance(SIGN_IN_LINK_LIFETIME)
    assert practitioners.get(link, headers=HTML).status_code == 400


def test_the_session_cookie_is_signed_http_only_lax_and_lasts_14_days(
    practitioners: TestClient, settings: Settings
) -> None:
    ask_for_link(practitioners, JANE_EMAIL)
    page = practitioners.get(mailed_link(settings.mailbox_dir, JANE_EMAIL), headers=HTML)
    answer = practitioners.post(
        "/practitioner/sign-in", data=hidden_fields(page.text), headers=HTML, follow_redirects=False
    )
    assert answer.headers["location"] == "/practitioner/bookings"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("booking_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=1209600" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test below
    value = cookie.split(";")[0].split("=", 1)[1].strip('"')
    assert not value.startswith("test-secret") and value.count(".") == 2  # signed and dated, by itsdangerous


def test_a_forged_session_cookie_signs_nobody_in(practitioners: TestClient) -> None:
    practitioners.cookies.set("booking_session", "test-secret-000002")
    answer = practitioners.get("/practitioner", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/practitioner/login"


def test_signing_out_ends_the_session_on_the_server(practitioners: TestClient, settings: Settings) -> None:
    sign_in(practitioners, settings.mailbox_dir)
    stolen = practitioners.cookies["booking_session"]
    home = practitioners.get("/practitioner", headers=HTML)
    out = practitioners.post(
        "/practitioner/logout", data=hidden_fields(home.text), headers=HTML, follow_redirects=False
    )
    assert out.status_code == 303
    assert out.headers["location"] == "/practitioner/login"
    assert "booking_session" not in practitioners.cookies
    practitioners.cookies.set("booking_session", stolen)  # the old cookie, replayed
    again = practitioners.get("/practitioner", headers=HTML, follow_redirects=False)
    assert again.status_code == 303


def test_signing_out_needs_the_form_token(practitioners: TestClient, settings: Settings) -> None:
    sign_in(practitioners, settings.mailbox_dir)
    refused = practitioners.post("/practitioner/logout", data={"csrf_token": "forged"}, headers=HTML)
    assert refused.status_code == 403
    assert practitioners.get("/practitioner", headers=HTML).status_code == 200


def test_asking_for_a_link_needs_the_form_token(practitioners: TestClient, settings: Settings) -> None:
    refused = practitioners.post("/practitioner/login", data={"email": JANE_EMAIL}, headers=HTML)
    assert refused.status_code == 403
    assert mails(settings.mailbox_dir) == []


def test_a_page_asks_a_browser_to_sign_in_and_a_script_gets_401(practitioners: TestClient) -> None:
    browser = practitioners.get("/practitioner", headers=HTML, follow_redirects=False)
    assert (browser.status_code, browser.headers["location"]) == (303, "/practitioner/login")
    script = practitioners.get("/practitioner")
    assert script.status_code == 401
    assert script.json()["error"]["code"] == "unauthenticated"


def test_one_address_is_limited(practitioners: TestClient, settings: Settings) -> None:
    for _ in range(LINKS_PER_ADDRESS.amount):
        ask_for_link(practitioners, JANE_EMAIL)
    form = hidden_fields(practitioners.get("/practitioner/login", headers=HTML).text)
    refused = practitioners.post(
        "/practitioner/login", data=form | {"email": JANE_EMAIL.upper()}, headers=HTML
    )
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")  # the form again, with the refusal
    assert "Too many sign-in requests" in refused.text
    assert int(refused.headers["Retry-After"]) > 0
    assert len(mails(settings.mailbox_dir)) == LINKS_PER_ADDRESS.amount
    ask_for_link(practitioners, "sam.lee@example.org")  # another address still may


def test_one_client_is_limited_whatever_the_addresses(practitioners: TestClient) -> None:
    for number in range(REQUESTS_PER_CLIENT.amount):
        ask_for_link(practitioners, f"guess{number}@example.org")
    form = hidden_fields(practitioners.get("/practitioner/login", headers=HTML).text)
    refused = practitioners.post("/practitioner/login", data=form | {"email": JANE_EMAIL}, headers=HTML)
    assert refused.status_code == 429


def test_neither_address_nor_secret_is_logged(
    practitioners: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ask_for_link(practitioners, "nobody@example.org")
    sign_in(practitioners, settings.mailbox_dir)
    link = mailed_link(settings.mailbox_dir, JANE_EMAIL)
    token = parse_qs(urlsplit(link).query)["token"][0]
    ours = [record for record in caplog.records if record.name.startswith("booking")]  # not httpx's
    logged = "\n".join(record.getMessage() for record in ours)
    assert "sign-in link sent to practitioner jane-doe" in logged
    for secret in (JANE_EMAIL, "nobody@example.org", token):
        assert secret not in logged


# -- the API's bearer tokens ------------------------------------------------------------------------


def test_the_api_knows_the_practitioner_by_their_token(practitioners: TestClient) -> None:
    me = practitioners.get("/api/me", headers=bearer(api_token(practitioners, "jane-doe")))
    assert me.status_code == 200
    body = me.json()
    assert (body["id"], body["email"], body["timezone"]) == ("jane-doe", JANE_EMAIL, "Europe/Berlin")
    public = practitioners.get("/api/practitioners/jane-doe").json()
    assert {key: value for key, value in body.items() if key != "email"} == public


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("not-a-token"), {"Authorization": "Basic amFuZTpzZWNyZXQ="}, {"Authorization": "Bearer"}],
    ids=["none", "wrong", "another scheme", "empty"],
)
def test_without_a_valid_token_the_api_answers_401(
    practitioners: TestClient, headers: dict[str, str]
) -> None:
    answer = practitioners.get("/api/me", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["error"]["code"] == "unauthenticated"
    assert answer.json()["error"]["message"]


def test_a_session_cookie_is_no_api_token(practitioners: TestClient, settings: Settings) -> None:
    sign_in(practitioners, settings.mailbox_dir)
    assert practitioners.get("/api/me").status_code == 401


def test_several_tokens_live_until_revoked(practitioners: TestClient) -> None:
    first, second = api_token(practitioners, "jane-doe"), api_token(practitioners, "jane-doe")
    sams = api_token(practitioners, "sam-lee")
    for token in (first, second):
        assert practitioners.get("/api/me", headers=bearer(token)).json()["id"] == "jane-doe"
    assert practitioners.get("/api/me", headers=bearer(sams)).json()["id"] == "sam-lee"
    assert SAM.email == practitioners.get("/api/me", headers=bearer(sams)).json()["email"]
    assert revoke_tokens(practitioners, "jane-doe") == 2
    for token in (first, second):
        assert practitioners.get("/api/me", headers=bearer(token)).status_code == 401
    assert practitioners.get("/api/me", headers=bearer(sams)).status_code == 200


def test_behind_https_the_session_cookie_is_secure_and_host_only() -> None:
    response = Response()
    SessionCookie("s" * 32, https=True).start(response, "a-session-secret")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-booking_session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    assert "a-session-secret" not in cookie
