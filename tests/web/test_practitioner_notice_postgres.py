"""Issue 12's promise, end to end in the production shape: on PostgreSQL, with SMTP and Stripe
configured, a practitioner imported with an e-mail address (`booking practitioners import`) receives
the notice of a paid booking through the SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from booking_adapters.testing.fake_stripe import FakeStripe, running
from booking_web.cli import main
from tests.unit.notifications.servers import SmtpSink
from tests.web.embedded import (
    CLIENT_EMAIL,
    availability,
    book,
    environment,
    eventually,
    next_weekday,
    serving,
    started,
)

pytestmark = pytest.mark.postgres

MONDAY = 0
PRACTITIONER_EMAIL = "ana.notice@example.com"
PRACTITIONER_FILE = f"""
[[practitioners]]
id = "ana-notice"
name = "Ana Notice"
timezone = "Europe/Berlin"
session_minutes = 50
price = "90.00"
currency = "EUR"
email = "{PRACTITIONER_EMAIL}"
[practitioners.weekly]
mon = ["09:00-12:00"]
"""


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


def test_a_practitioner_imported_with_an_email_receives_the_booking_notice(
    postgres_url: str, smtp: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stripe = FakeStripe()
    with running(stripe) as stripe_url:
        env = environment(
            tmp_path / "var",
            DATABASE_URL=postgres_url,
            BOOKING_SECRET_KEY="test-secret-" + "x" * 32,
            STRIPE_SECRET_KEY="sk_test_fake_notice",
            STRIPE_WEBHOOK_SECRET=stripe.webhook_secret,
            STRIPE_API_BASE=stripe_url,
            SMTP_URL=smtp.url,
            MAIL_FROM="bookings@example.com",
            NO_PROXY="127.0.0.1,localhost",
        )
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        team = tmp_path / "team.toml"
        team.write_text(PRACTITIONER_FILE)
        main(["practitioners", "import", str(team)])

        with serving(started(env)) as client:
            start = availability(client, "ana-notice", next_weekday(MONDAY))["slots"][0]["start"]
            held = book(client, "ana-notice", start)
            assert held.status_code == 201, held.text
            booking_id = held.json()["id"]
            paid = stripe.complete(stripe.session_of(booking_id)["id"])
            answer = client.post("/api/webhooks/stripe", content=paid.payload, headers=paid.headers)
            assert answer.status_code == 200, answer.text
            assert client.get(f"/api/bookings/{booking_id}").json()["status"] == "confirmed"
            assert eventually(lambda: bool(smtp.to(PRACTITIONER_EMAIL)) and bool(smtp.to(CLIENT_EMAIL)))

    [notice] = smtp.to(PRACTITIONER_EMAIL)
    assert str(notice["Subject"]).startswith("New booking: Ann Client on ")
    assert CLIENT_EMAIL in notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
