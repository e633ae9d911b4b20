"""`booking outbox deliver`, `booking outbox list --failed` and `booking calcom sync` on the embedded
default, over bookings confirmed while no outbox worker ran (as after a crash right after the commit)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import anyio
import pytest

from booking_adapters import sql
from booking_adapters.outgoing_webhooks import channel_name
from booking_adapters.testing.fake_calcom import FAKE_API_KEY, FakeCalcomServer
from booking_web.cli import main
from booking_web.settings import Settings
from tests.contract.availability_fixtures import fake_calcom, practitioner
from tests.unit.notifications.servers import free_port
from tests.web.embedded import add_practitioner, confirmed_while_no_worker_runs, next_weekday

TUESDAY = 1


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in (
        "DATABASE_URL",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "BOOKING_SECRET_KEY",
        "SMTP_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOOKING_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return tmp_path / "var"


def _confirmed(practitioner_id: str) -> str:
    """A booking confirmed in the database the commands read, with nothing delivered yet."""
    main(["outbox", "list", "--failed"])  # the first start of the deployment registers the channels
    settings = Settings.from_env(os.environ)
    return anyio.run(confirmed_while_no_worker_runs, settings, practitioner_id, next_weekday(TUESDAY))


def test_nothing_to_deliver_on_a_fresh_deployment(capsys: pytest.CaptureFixture[str]) -> None:
    main(["outbox", "deliver"])
    main(["outbox", "list", "--failed"])
    out = capsys.readouterr().out
    assert "delivered: 0, failed (retried later): 0, gave up: 0" in out
    assert "no failed deliveries" in out


def test_deliver_sends_the_mail_and_lists_a_dead_subscriber(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hooks"  # nothing listens there
    monkeypatch.setenv("WEBHOOK_URLS", dead)
    booking_id = _confirmed("jane-doe")
    capsys.readouterr()

    main(["outbox", "deliver"])
    assert "failed (retried later): 1," in capsys.readouterr().out  # the confirmation to the subscriber
    # the client's confirmation and the demo practitioner's notice
    assert len(list((data_dir / "mailbox").glob("*.eml"))) == 2

    main(["outbox", "list", "--failed", "--channel", channel_name(dead)])
    header, row = capsys.readouterr().out.strip().splitlines()
    assert header.split("\t") == ["channel", "seq", "booking", "attempts", "last error", "next attempt"]
    channel, _seq, booking, attempts, error, next_attempt = row.split("\t")
    assert (channel, booking, attempts) == (channel_name(dead), booking_id, "1")
    assert error.startswith("subscriber unreachable") and next_attempt != "given up"

    main(["outbox", "list", "--failed", "--channel", "email:client"])
    assert capsys.readouterr().out.strip() == "no failed deliveries"


def test_calcom_sync_writes_confirmed_bookings_back(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = fake_calcom()
    server = FakeCalcomServer(fake)
    server.up()
    try:
        monkeypatch.setenv("CALCOM_API_BASE", server.url)
        monkeypatch.setenv("CALCOM_API_KEY", FAKE_API_KEY)
        main(["db", "upgrade"])
        anyio.run(add_practitioner, Settings.from_env(os.environ), practitioner())
        booking_id = _confirmed("ada")
        capsys.readouterr()

        main(["calcom", "sync"])
    finally:
        server.down()
    report, failures = capsys.readouterr().out.strip().splitlines()
    assert report.startswith("delivered: 2,")  # the hold (nothing to write) and the confirmation
    assert failures == "no failed deliveries"
    [written] = fake.live_bookings()
    assert written["metadata"]["bookingId"] == booking_id


async def _slot_start(booking_id: str) -> datetime:
    database = await sql.open_database(Settings.from_env(os.environ).database_location)
    try:
        booking = await database.store.get(booking_id)
    finally:
        await database.close()
    assert booking is not None
    return booking.slot.start


def test_reminders_list_prints_one_line_per_planned_reminder(capsys: pytest.CaptureFixture[str]) -> None:
    main(["reminders", "list"])
    assert capsys.readouterr() == ("", "no reminders planned\n")
    booking_id = _confirmed("jane-doe")  # the demo practitioner: reminded 24 hours before
    capsys.readouterr()

    main(["reminders", "list"])
    (line,) = capsys.readouterr().out.splitlines()
    booking, due, channel = line.split("\t")
    assert (booking, channel) == (booking_id, "email")
    assert datetime.fromisoformat(due) == anyio.run(_slot_start, booking_id) - timedelta(hours=24)
