"""The practitioner's calendar page, signed in through the e-mailed link, over the fakes and SQLite:
the feed's address shown (and as a webcal:// link) on an uncached page that sends no referrer, the
feed fetched with it, a new address made with the page's CSRF-protected button (the old one 404
from then on), and the token in no log line."""

from __future__ import annotations

import html
import logging
import re
from urllib.parse import urlsplit

import icalendar
import pytest
from starlette.testclient import TestClient

from booking_web.settings import Settings
from tests.web.practitioner_sign_in import HTML, SAM, hidden_fields, sign_in
from tests.web.test_api import book, first_slot
from tests.web.test_calendar_feed import feed_path

PAGE = "/practitioner/calendar"
ROTATE = "/practitioner/calendar/rotate"


def _address(page: str) -> str:
    (found,) = re.findall(r'<input id="feed-url"[^>]* value="([^"]*)"', page)
    return html.unescape(found)


def _feed(client: TestClient, url: str) -> int:
    return client.get(urlsplit(url).path).status_code


def test_signed_out_the_page_sends_the_browser_to_sign_in_and_nothing_rotates(client: TestClient) -> None:
    path = feed_path(client)
    for answer in (
        client.get(PAGE, headers=HTML, follow_redirects=False),
        client.post(ROTATE, data={}, headers=HTML, follow_redirects=False),
    ):
        assert answer.status_code == 303
        assert answer.headers["location"].endswith("/practitioner/login")
    assert feed_path(client) == path


def test_the_practitioner_sees_the_address_subscribes_and_makes_a_new_one(
    signed_in: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = signed_in
    book(client, first_slot(client))
    sessions = client.get("/practitioner/bookings", headers=HTML).text
    assert f'href="http://testserver{PAGE}"' in sessions  # reachable from their sessions

    with caplog.at_level(logging.DEBUG):
        page = client.get(PAGE, headers=HTML)
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
        url = _address(page.text)
        assert url.startswith("http://testserver/calendar/") and url.endswith(".ics")
        assert "jane-doe" not in url
        assert f'href="webcal://{url.removeprefix("http://")}"' in page.text
        assert urlsplit(url).path == feed_path(client)  # the address the API and the CLI give
        assert _address(client.get(PAGE, headers=HTML).text) == url  # the same on every visit

        feed = client.get(urlsplit(url).path)
        assert feed.status_code == 200
        assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
        assert len(icalendar.Calendar.from_ical(feed.content).walk("VEVENT")) == 1

        form = hidden_fields(page.text)
        rotated = client.post(ROTATE, data=form, headers=HTML, follow_redirects=False)
        assert rotated.status_code == 303
        assert rotated.headers["location"] == f"{PAGE}?rotated=1"
        after = client.get(rotated.headers["location"], headers=HTML)
        assert after.headers["cache-control"] == "no-store"
        assert "The old one no longer works" in after.text
        new_url = _address(after.text)
        assert new_url != url
        assert _feed(client, url) == 404
        assert _feed(client, new_url) == 200
        assert urlsplit(new_url).path == feed_path(client)
        assert "no longer works" not in client.get(PAGE, headers=HTML).text  # said once

    server = [record for record in caplog.records if record.name != "httpx"]  # httpx: the test's client
    assert server
    logged = " ".join(f"{record.getMessage()} {record.__dict__}" for record in server)
    for address in (url, new_url):
        token = urlsplit(address).path.removeprefix("/calendar/").removesuffix(".ics")
        assert token[:16] not in logged


def test_each_practitioner_sees_their_own_address(signed_in: TestClient, settings: Settings) -> None:
    janes = _address(signed_in.get(PAGE, headers=HTML).text)
    signed_in.cookies.clear()
    sign_in(signed_in, settings.mailbox_dir, SAM)
    sams = _address(signed_in.get(PAGE, headers=HTML).text)
    assert sams != janes
    assert urlsplit(sams).path == feed_path(signed_in, "sam-lee")


def test_the_new_address_button_refuses_a_missing_or_wrong_csrf_token(signed_in: TestClient) -> None:
    page = signed_in.get(PAGE, headers=HTML).text
    url, form = _address(page), hidden_fields(page)
    refused = [
        {},
        {"csrf_token": ""},
        {"csrf_token": "forged"},
        {"csrf_token": form["csrf_token"][:-2] + "AA"},
    ]
    for data in refused:
        answer = signed_in.post(ROTATE, data=data, headers=HTML, follow_redirects=False)
        assert answer.status_code == 403, data
    other_site = {"Origin": "https://evil.example"} | HTML
    assert signed_in.post(ROTATE, data=form, headers=other_site, follow_redirects=False).status_code == 403
    assert _address(signed_in.get(PAGE, headers=HTML).text) == url
    assert _feed(signed_in, url) == 200
