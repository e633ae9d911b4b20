"""E-mails and webhooks leave the running service: a booking confirmed through the HTTP API and the
local test payment reaches the mailbox folder (and /dev/mailbox) and every webhook subscriber,
delivered by the outbox worker in the lifespan; failing deliveries are visible in /metrics."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from icalendar import Calendar

from booking_adapters import sql
from booking_adapters.outgoing_webhooks import channel_name
from tests.unit.notifications.servers import WebhookReceiver
from tests.web.embedded import (
    CLIENT_EMAIL,
    book_and_pay,
    environment,
    eventually,
    next_weekday,
    serving,
    started,
)

MONDAY = 0
WEBHOOK_SECRET = "whsec_fake" + "s" * 32


@pytest.fixture(autouse=True)
def _local_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """Created listening-to-nothing: a test starts it, or leaves it down to play a dead subscriber."""
    subscriber = WebhookReceiver(WEBHOOK_SECRET.encode(), time.time)
    yield subscriber
    subscriber.stop()


def _mails(folder: Path) -> list[EmailMessage]:
    messages = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def test_a_confirmed_booking_mails_the_client_into_the_mailbox_page(tmp_path: Path) -> None:
    # An hour between rounds: only the nudge after the payment can deliver within the test.
    settings = started(environment(tmp_path / "var", OUTBOX_INTERVAL_SECONDS="3600"))
    with serving(settings) as client:
        booking_id = book_and_pay(client, "jane-doe", next_weekday(MONDAY))
        assert eventually(lambda: len(_mails(settings.mailbox_dir)) == 2)
        listing = client.get("/dev/mailbox")

    # the client's confirmation, and the demo practitioner's notice of the booking
    mails = {str(mail["To"]): mail for mail in _mails(settings.mailbox_dir)}
    [mail] = [mail for to, mail in mails.items() if CLIENT_EMAIL in to]
    [notice] = [mail for to, mail in mails.items() if "jane.doe@example.com" in to]
    assert notice is not mail
    assert str(mail["Subject"]).startswith("Confirmed: your session with Dr. Jane Doe")
    invite = next(part for part in mail.iter_attachments() if part.get_filename() == "invite.ics")
    calendar = Calendar.from_ical(invite.get_content())
    assert calendar["METHOD"] == "REQUEST"
    assert booking_id in str(calendar.walk("VEVENT")[0]["UID"])
    assert listing.status_code == 200
    assert str(mail["Subject"]) in listing.text


def test_the_mailbox_page_exists_only_in_development_mode_without_smtp(tmp_path: Path) -> None:
    external = f"sqlite:///{tmp_path}/external.db"  # not the embedded default: a database of its own
    sql.upgrade(external)
    stripe = {"STRIPE_SECRET_KEY": "sk_test_fake_mailbox", "STRIPE_WEBHOOK_SECRET": "whsec_fake_mailbox"}
    for env in (
        environment(tmp_path / "a", SMTP_URL="smtp://127.0.0.1:1?starttls=false"),
        environment(tmp_path / "b", DATABASE_URL=external, **stripe),
        environment(tmp_path / "d", **stripe),  # the embedded database, but real payments
    ):
        with serving(started(env)) as client:
            assert client.get("/dev/mailbox").status_code == 404
    with serving(started(environment(tmp_path / "c"))) as client:
        assert client.get("/dev/mailbox").status_code == 200


def test_subscribers_receive_signed_events(tmp_path: Path, receiver: WebhookReceiver) -> None:
    receiver.start()
    env = environment(tmp_path / "var", WEBHOOK_URLS=receiver.url, WEBHOOK_SECRET=WEBHOOK_SECRET)
    with serving(started(env)) as client:
        booking_id = book_and_pay(client, "sam-lee", next_weekday(MONDAY))
        assert eventually(lambda: len(receiver.events) > 0)

    [event] = receiver.events  # the hold is not an event subscribers hear about
    assert (event["type"], event["data"]["booking_id"]) == ("booking.confirmed", booking_id)
    assert receiver.rejected == 0  # every request carried a valid signature


def test_the_embedded_default_signs_with_a_secret_kept_in_the_data_dir(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    settings = started(environment(tmp_path / "var", WEBHOOK_URLS=receiver.url))
    secret = (settings.data_dir / "webhook_signing_secret").read_text().strip()
    assert secret.startswith("whsec_")
    receiver.secret = secret.encode()
    receiver.start()
    with serving(settings) as client:
        book_and_pay(client, "jane-doe", next_weekday(MONDAY))
        assert eventually(lambda: len(receiver.events) > 0)
    assert receiver.rejected == 0


def test_a_dead_subscriber_shows_in_the_failing_gauge(tmp_path: Path, receiver: WebhookReceiver) -> None:
    env = environment(tmp_path / "var", WEBHOOK_URLS=receiver.url, WEBHOOK_SECRET=WEBHOOK_SECRET)
    gauge = f'booking_outbox_failing{{channel="{channel_name(receiver.url)}"}} 1.0'
    with serving(started(env)) as client:
        book_and_pay(client, "jane-doe", next_weekday(MONDAY))
        assert eventually(lambda: gauge in client.get("/metrics").text)
        metrics = client.get("/metrics").text
    assert 'booking_outbox_failing{channel="email:client"} 0.0' in metrics
    assert 'booking_outbox_deliveries_total{outcome="failed"} 1.0' in metrics
