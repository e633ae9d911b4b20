"""Reminders through the real service: `booking serve` with two workers on PostgreSQL e-mails the
client through real SMTP (aiosmtpd on 127.0.0.1) a few minutes before their session: once, with the
time in their zone, the manage link and the location; a moved session at its new time; none for a
cancelled booking, none for one booked inside the window."""

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

from booking_core import LocalHours, Money, Offer, Practitioner, ReschedulePolicy, Service, WeeklySchedule
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
        rescheduling=ReschedulePolicy(notice=timedelta(0)),  # the client may move it until it starts
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


def test_a_confirmed_session_gets_one_reminder_by_smtp_a_moved_one_at_its_new_time_a_cancelled_one_none(
    deployment: Deployment, smtp: SmtpSink
) -> None:
    running = deployment.running
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now + OFFSET + timedelta(minutes=2)  # its reminder is due 1 to 2 minutes from now
    kept = _book(running, start, "kept", "+49 30 1111111")
    cancelled = _book(running, start + timedelta(minutes=30), "cancelled", "+49 30 2222222")
    moved = _book(running, start + timedelta(minutes=10), "moved", "+49 30 4444444")
    inside = _book(running, now + timedelta(minutes=2), "inside", "+49 30 3333333")  # inside its window
    assert deployment.reminders_listed() == [
        [kept["id"], (start - OFFSET).isoformat(), "email"],
        [moved["id"], (start + timedelta(minutes=10) - OFFSET).isoformat(), "email"],
        [cancelled["id"], (start + timedelta(minutes=30) - OFFSET).isoformat(), "email"],
    ]
    answer = httpx.post(
        f"{running.base_url}/api/bookings/{cancelled['id']}/cancel",
        json={"cancel_token": cancelled["cancel_token"]},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    new_start = start + timedelta(minutes=1)
    answer = httpx.post(
        f"{running.base_url}/api/bookings/{moved['id']}/reschedule",
        json={"cancel_token": moved["cancel_token"], "start": new_start.isoformat()},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert deployment.reminders_listed() == [
        [kept["id"], (start - OFFSET).isoformat(), "email"],
        [moved["id"], (new_start - OFFSET).isoformat(), "email"],
    ]

    for _ in range(MAX_POLLS):  # bounded: by the sessions' start the reminders can no longer come
        if (_reminders(smtp, "kept") and _reminders(smtp, "moved")) or datetime.now(UTC) >= new_start:
            break
        time.sleep(POLL_SECONDS)
    (reminder,) = _reminders(smtp, "kept")
    text = reminder.get_body(("plain",))
    assert text is not None
    body = str(text.get_content())
    assert f"{start.astimezone(ZoneInfo(CLIENT_ZONE)):%H:%M}" in str(reminder["Subject"])
    assert CLIENT_ZONE in body and f"Where: {LOCATION}" in body
    assert f"/booking/{kept['id']}/manage?token={kept['cancel_token']}" in body
    (moved_reminder,) = _reminders(smtp, "moved")
    assert f"{new_start.astimezone(ZoneInfo(CLIENT_ZONE)):%H:%M}" in str(moved_reminder["Subject"])
    with psycopg.connect(deployment.database_url) as connection:
        rows = connection.execute(
            "SELECT booking_id, slot_start, sent_at IS NOT NULL FROM reminder_deliveries ORDER BY slot_start"
        ).fetchall()
    # claimed and sent once each, by one of the two workers; the moved one's at its new start only
    assert rows == [(kept["id"], start, True), (moved["id"], new_start, True)]
    assert deployment.reminders_listed() == []
    assert _reminders(smtp, "cancelled") == [] and _reminders(smtp, "inside") == []
    assert inside["status"] == "confirmed"
    assert running.unexpected_errors() == []
