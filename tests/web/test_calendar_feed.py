"""The practitioner's calendar feed over HTTP, on the memory fakes and SQLite: it lists exactly the
live sessions (parsed with icalendar), answers 304 to a subscriber whose copy is current, opens
with its secret address only (shown again, rotated), is rate-limited, and keeps the token out of
the access log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import icalendar
import pytest
from starlette.testclient import TestClient

from booking_adapters.mail.invite import invite_uid
from booking_adapters.memory import FakePaymentGateway, ManualClock
from booking_core import TimeOff, TimeRange
from booking_web.app import create_app
from booking_web.settings import Settings
from tests.web.conftest import memory_builder
from tests.web.practitioner_sign_in import api_token, bearer, container, portal
from tests.web.test_api import book, first_slot

TUESDAY = "2030-01-15"


def feed_path(client: TestClient, practitioner_id: str = "jane-doe", *, rotate: bool = False) -> str:
    feeds = container(client).calendar_feeds
    token: str = portal(client).call(feeds.rotate if rotate else feeds.token, practitioner_id)
    return f"/calendar/{token}.ics"


def _pay(client: TestClient, gateway: FakePaymentGateway, booking_id: str) -> None:
    service = container(client).service
    booking = portal(client).call(service.booking, booking_id)
    portal(client).call(service.apply_payment_event, gateway.pay(booking.checkout_session_id))


def _events(response: Any) -> dict[str, icalendar.Event]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_the_feed_lists_exactly_the_live_sessions(
    client: TestClient, gateway: FakePaymentGateway, clock: ManualClock
) -> None:
    lapsed = book(client, first_slot(client, day=TUESDAY)).json()["id"]
    clock.advance(timedelta(minutes=31))  # its hold lapses unpaid
    monday = first_slot(client)
    confirmed = book(client, monday).json()["id"]
    _pay(client, gateway, confirmed)
    held = book(client, first_slot(client), email="bo@example.com", phone="+49 30 7654321").json()
    cancelled = book(client, first_slot(client), email="cy@example.com", phone="+49 30 1111111").json()
    _pay(client, gateway, cancelled["id"])
    cancel = {"cancel_token": cancelled["cancel_token"]}
    assert client.post(f"/api/bookings/{cancelled['id']}/cancel", json=cancel).status_code == 200
    book(client, first_slot(client, "sam-lee"), practitioner_id="sam-lee")  # another's
    wednesday = datetime(2030, 1, 16, 8, tzinfo=UTC)
    away = TimeOff("off-1", "jane-doe", TimeRange.of(wednesday, timedelta(hours=9)), clock.now(), "Training")
    portal(client).call(container(client).service.store.add_time_off, away, clock.now())

    events = _events(client.get(feed_path(client)))

    uid = invite_uid(confirmed, "testserver")  # the client's invite names the session so too
    time_off = events.pop("time-off-off-1@testserver")
    assert (time_off.decoded("DTSTART"), time_off.decoded("DTEND")) == (away.span.start, away.span.end)
    assert (str(time_off["SUMMARY"]), str(time_off["TRANSP"])) == ("Time off: Training", "OPAQUE")
    assert set(events) == {uid, invite_uid(held["id"], "testserver")}
    assert lapsed not in str(events)
    session = events[uid]
    assert session["STATUS"] == "CONFIRMED"
    assert session.decoded("DTSTART").isoformat() == monday
    assert session.decoded("DTEND") - session.decoded("DTSTART") == timedelta(minutes=50)
    assert "Session" in str(session["SUMMARY"]) and "Ann Example" in str(session["SUMMARY"])
    description = str(session["DESCRIPTION"])
    assert "Ann Example" in description and "ann@example.com" in description
    assert "+49301234567" in description and "Paid: 90.00 EUR" in description
    assert events[invite_uid(held["id"], "testserver")]["STATUS"] == "TENTATIVE"


def test_a_subscriber_with_a_current_copy_gets_304(client: TestClient) -> None:
    path = feed_path(client)
    book(client, first_slot(client))
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, no-cache"
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]

    same = client.get(path, headers={"If-None-Match": etag})
    assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", etag)
    assert client.get(path, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    # If-None-Match decides when both are sent
    both = {"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    assert client.get(path, headers=both).status_code == 200

    book(client, first_slot(client), email="bo@example.com", phone="+49 30 7654321")
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert len(_events(changed)) == 2


def test_only_the_current_secret_address_opens_the_feed(client: TestClient) -> None:
    path = feed_path(client)
    assert feed_path(client) == path  # shown again: the same address
    assert feed_path(client, "sam-lee") != path
    wrong = client.get(path.replace(".ics", "0.ics"))
    assert wrong.status_code == 404
    assert wrong.json()["error"] == {"code": "not_found", "message": "There is no calendar at this address."}
    assert client.get("/calendar/jane-doe.ics").json() == wrong.json()  # no hint either way

    rotated = feed_path(client, rotate=True)
    assert rotated != path
    assert client.get(path).status_code == 404
    assert client.get(rotated).status_code == 200
    assert feed_path(client) == rotated


def test_a_stranger_trying_addresses_is_rate_limited(
    tmp_path: Any, clock: ManualClock, gateway: FakePaymentGateway
) -> None:
    settings = Settings(data_dir=tmp_path, calendar_feed_rate_limit_per_minute=3)
    app = create_app(settings, build=memory_builder(clock, gateway))
    with TestClient(app, raise_server_exceptions=False, base_url="http://127.0.0.1:8000") as stranger:
        answers = [stranger.get(f"/calendar/guess{n}.ics") for n in range(4)]
    assert [answer.status_code for answer in answers] == [404, 404, 404, 429]
    assert answers[-1].json()["error"]["code"] == "rate_limited"
    assert int(answers[-1].headers["retry-after"]) > 0


def test_the_access_log_has_the_route_not_the_token(
    memory_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    path = feed_path(memory_client)
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    with caplog.at_level(logging.INFO, logger="booking_web.access"):
        assert memory_client.get(path).status_code == 200
        assert memory_client.get(f"/calendar/{token[:-1]}.ics").status_code == 404
    lines = [record.getMessage() for record in caplog.records if record.name == "booking_web.access"]
    assert lines == ["GET /calendar/{token}.ics 200", "GET /calendar/{token}.ics 404"]
    assert token[:16] not in caplog.text


def test_the_practitioner_asks_for_their_feed_and_rotates_it_with_their_token(client: TestClient) -> None:
    headers = bearer(api_token(client, "jane-doe"))
    url = client.get("/api/me/calendar", headers=headers).json()["url"]
    assert url.startswith("http://testserver/calendar/") and url.endswith(".ics")
    assert "jane-doe" not in url  # the address names nobody
    assert client.get("/api/me/calendar", headers=headers).json() == {"url": url}
    assert urlsplit(url).path == feed_path(client)  # the same address the operator's command prints

    rotated = client.post("/api/me/calendar/rotate", headers=headers)
    assert rotated.status_code == 200
    new_url = rotated.json()["url"]
    assert new_url != url
    assert client.get(urlsplit(url).path).status_code == 404
    assert client.get(urlsplit(new_url).path).status_code == 200
    assert client.get("/api/me/calendar", headers=headers).json() == {"url": new_url}

    assert client.get("/api/me/calendar").status_code == 401
    assert client.post("/api/me/calendar/rotate", headers=bearer("wrong")).status_code == 401


def test_a_moved_session_shows_at_its_new_time_as_a_newer_version(
    client: TestClient, gateway: FakePaymentGateway
) -> None:
    monday, tuesday = first_slot(client), first_slot(client, day=TUESDAY)
    created = book(client, monday).json()
    _pay(client, gateway, created["id"])
    path = feed_path(client)
    uid = invite_uid(created["id"], "testserver")
    before = _events(client.get(path))[uid]

    portal(client).call(
        container(client).service.reschedule_for_practitioner, created["id"], _instant(tuesday)
    )

    after = _events(client.get(path))[uid]  # the same event, one version on
    assert after.decoded("DTSTART") == _instant(tuesday) and before.decoded("DTSTART") == _instant(monday)
    assert (before.decoded("SEQUENCE"), after.decoded("SEQUENCE")) == (0, 1)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)
