"""Reminders through the real service: `booking serve` with two workers on PostgreSQL e-mails the
client through real SMTP (aiosmtpd on 127.0.0.1) a few minutes before their session: once, with the
time in their zone, the manage link and the location; none for a cancelled booking, none for one
booked inside the window."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from attrs import frozen

from booking_core import LocalHours, Money, Offer, Practitioner, Service, WeeklySchedule
from tests.system.postgres import require_shared_server, seeded_database
from tests.system.service import RunningService, StripeConfig, run_cli, service_env, serving
from tests.unit.notifications.servers import SmtpSink

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.timeout(420)]

OFFSET = timedelta(minutes=3)  # reminder_hours = [0.05]
LOCATION = "https://meet.example.org/rita"
CLIENT_ZONE = "Asia/Kolkata"
POLL_SECONDS = 0.5
MAX_POLLS = 600  # x 0.5 s: past the session's start, the reminder can no longer come
RITA = Practitioner(
    id="rita-reminded",
    name="Rita Reminded",
    offer=Offer(
        session_length=timedelta(minutes=1),  # short: the booking inside its window fits before
        price=Money(0, "EUR"),
        slot_step=timedelta(minutes=1),
        reminder_offsets=(OFFSET,),
    ),
    schedule=WeeklySchedule("UTC", [[LocalHours.parse("00:00-24:00")]] * 7),
    email="rita@example.org",
    services=(Service("call", "Video call", timedelta(minutes=1), Money(0, "EUR"), location=LOCATION),),
)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@frozen
class Deployment:
    running: RunningService
    database_url: str
    env: dict[str, str]

    def reminders_listed(self) -> list[list[str]]:
        return [line.split("\t") for line in run_cli(["reminders", "list"], self.env).splitlines()]


@pytest.fixture
def deployment(stripe: StripeConfig, smtp: SmtpSink, tmp_path: Path) -> Iterator[Deployment]:
    with seeded_database(require_shared_server(), [RITA]) as url:
        env = service_env(
            url,
            stripe,
            tmp_path,
            SMTP_URL=smtp.url,
            OUTBOX_INTERVAL_SECONDS="1",
            FREE_BOOKING_LIMIT_PER_CLIENT="10",
        )
        with serving(env, tmp_path / "server.log", workers=2) as running:
            yield Deployment(running, url, env)


def _book(service: RunningService, start: datetime, client: str, phone: str) -> dict[str, str]:
    body = {
        "practitioner_id": RITA.id,
        "start": start.isoformat(),
        "name": "Ann Client",
        "email": f"{client}@example.com",
        "phone": phone,
        "timezone": CLIENT_ZONE,
    }
    answer = httpx.post(f"{service.base_url}/api/bookings", json=body, timeout=30)
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "confirmed"
    return dict(answer.json())


def _reminders(smtp: SmtpSink, client: str) -> list[EmailMessage]:
    return [m for m in smtp.to(f"{client}@example.com") if str(m["Subject"]).startswith("Reminder:")]


def test_a_confirmed_session_gets_one_reminder_by_smtp_and_a_cancelled_one_none(
    deployment: Deployment, smtp: SmtpSink
) -> None:
    running = deployment.running
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now + OFFSET + timedelta(minutes=2)  # its reminder is due 1 to 2 minutes from now
    kept = _book(running, start, "kept", "+49 30 1111111")
    cancelled = _book(running, start + timedelta(minutes=30), "cancelled", "+49 30 2222222")
    inside = _book(running, now + timedelta(minutes=2), "inside", "+49 30 3333333")  # inside its window
    listed = deployment.reminders_listed()
    assert listed == [
        [kept["id"], (start - OFFSET).isoformat(), "email"],
        [cancelled["id"], (start + timedelta(minutes=30) - OFFSET).isoformat(), "email"],
    ]
    answer = httpx.post(
        f"{running.base_url}/api/bookings/{cancelled['id']}/cancel",
        json={"cancel_token": cancelled["cancel_token"]},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert [line[0] for line in deployment.reminders_listed()] == [kept["id"]]

    for _ in range(MAX_POLLS):  # bounded: by the session's start the reminder can no longer come
        if _reminders(smtp, "kept") or datetime.now(UTC) >= start:
            break
        time.sleep(POLL_SECONDS)
    (reminder,) = _reminders(smtp, "kept")
    text = reminder.get_body(("plain",))
    assert text is not None
    body = str(text.get_content())
    assert f"{start.astimezone(ZoneInfo(CLIENT_ZONE)):%H:%M}" in str(reminder["Subject"])
    assert CLIENT_ZONE in body and f"Where: {LOCATION}" in body
    assert f"/booking/{kept['id']}/manage?token={kept['cancel_token']}" in body
    with psycopg.connect(deployment.database_url) as connection:
        rows = connection.execute(
            "SELECT booking_id, sent_at IS NOT NULL FROM reminder_deliveries"
        ).fetchall()
    assert rows == [(kept["id"], True)]  # claimed and sent once, by one of the two workers
    assert deployment.reminders_listed() == []
    assert _reminders(smtp, "cancelled") == [] and _reminders(smtp, "inside") == []
    assert inside["status"] == "confirmed"
    assert running.unexpected_errors() == []
