"""`booking clients export/erase EMAIL` (issue 17 item 3) on a deployment's own storage: the embedded
SQLite file and the data directory, or PostgreSQL. After an erasure no byte of the client's address
(in any case), name or phone is left in the database (the SQLite file, its journal, or a pg_dump of
the whole PostgreSQL database) or anywhere in the data directory; another client's are."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import make_url

from booking_adapters.sql.scratch import scratch_database
from booking_adapters.testing.fake_stripe import FakeStripe
from booking_core import BookingRequest, Reminder, TimeRange
from booking_web.bootstrap import open_container
from booking_web.cli import main
from booking_web.local_days import days_window
from booking_web.settings import Settings
from booking_web.webhooks import receive_payment_webhook
from tests.contract.conftest import POSTGRES_ADMIN_URL
from tests.unit.notifications.servers import WebhookReceiver
from tests.web.embedded import CLIENT_EMAIL, next_weekday
from tests.web.test_bookings_cli import deployment_on_fake_stripe

NAME, PHONE = "Ann Client", "+49301234567"  # as stored (E.164); CLIENT_EMAIL is hers too
SECRET = "whsec_clients" + "c" * 32


@pytest.fixture
def subscriber() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(SECRET.encode(), time.time)
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def deployment(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    subscriber: WebhookReceiver,
) -> Iterator[tuple[FakeStripe, str | None]]:
    """The fake Stripe, and the PostgreSQL database's URL (None: the embedded SQLite file)."""
    env = {"WEBHOOK_URLS": subscriber.url, "WEBHOOK_SECRET": SECRET}
    if request.param == "sqlite":
        with deployment_on_fake_stripe(tmp_path, monkeypatch, env) as stripe:
            yield stripe, None
        return
    request.getfixturevalue("postgres_url")  # fails under CI when PostgreSQL is unreachable
    with scratch_database(POSTGRES_ADMIN_URL, prefix="booking_erasure") as url:
        env |= {"DATABASE_URL": url, "BOOKING_SECRET_KEY": "k" * 40}
        with deployment_on_fake_stripe(tmp_path, monkeypatch, env) as stripe:
            yield stripe, url


async def _book(stripe: FakeStripe, slot: int, name: str, email: str, phone: str) -> str:
    """A paid booking of Ann Bo's `slot`-th free slot next Monday; its id."""
    async with open_container(Settings.from_env(os.environ)) as container:
        service = container.service
        day = next_weekday(0)
        window = TimeRange(*days_window(day, day, "Europe/Berlin"))
        start = (await service.list_availability("ann-bo", window)).slots[slot].start
        hold = await service.request_booking(
            BookingRequest("ann-bo", start, name, email, phone, "Europe/Paris")
        )
        assert hold.booking.checkout_session_id is not None
        webhook = stripe.complete(hold.booking.checkout_session_id)
        await receive_payment_webhook(service, webhook.payload, webhook.headers)
        return hold.booking.id


async def _remind(booking_id: str, email: str) -> None:
    """The booking's reminder a day before sent, and the one two hours before failed with an error
    quoting `email` (told to the deployment's ledger directly: the relay sends them only when due)."""
    async with open_container(Settings.from_env(os.environ)) as container:
        assert container.outbox_worker is not None and container.outbox_worker.relay.reminders is not None
        ledger = container.outbox_worker.relay.reminders.ledger
        start = (await container.service.booking(booking_id)).slot.start
        sent, failed = (Reminder(booking_id, start, timedelta(hours=hours)) for hours in (24, 2))
        at = start - timedelta(hours=2)
        assert await ledger.claim([sent, failed], at) == [sent, failed]
        await ledger.mark_sent([sent], at)
        await ledger.mark_failed(failed, at, f"452 <{email}>: mailbox full", at + timedelta(minutes=5))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    main(list(argv))
    return capsys.readouterr().out


def _stored_bytes(data_dir: Path, postgres_url: str | None) -> bytes:
    """Every file in the data directory (the SQLite file and its journal, the mailbox, ...) and, on
    PostgreSQL, a dump of the whole database, lowercased."""
    found = [path.read_bytes() for path in sorted(data_dir.rglob("*")) if path.is_file()]
    if postgres_url is not None:
        url = make_url(postgres_url)
        dump = subprocess.run(
            [
                "pg_dump",
                *("-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)),
                *("-U", url.username or "postgres", url.database or ""),
            ],
            capture_output=True,
            check=True,
            timeout=60,
        )
        assert b"CREATE TABLE public.bookings" in dump.stdout
        found.append(dump.stdout)
    return b"\n".join(found).lower()


def test_export_then_erase_leaves_no_trace_of_the_client(
    deployment: tuple[FakeStripe, str | None],
    subscriber: WebhookReceiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stripe, postgres_url = deployment
    first = anyio.run(lambda: _book(stripe, 0, NAME, CLIENT_EMAIL, "+49 30 1234567"))
    # the same address in other capitals, another name: the same client
    second = anyio.run(lambda: _book(stripe, 1, "Ann C.", "Ann.Client@Example.com", "+49 30 1234567"))
    other = anyio.run(lambda: _book(stripe, 2, "Bo Other", "bo.other@example.com", "+49 30 7654321"))
    _run(capsys, "outbox", "deliver")  # the confirmations: mails in the mailbox, webhooks
    anyio.run(lambda: _remind(first, CLIENT_EMAIL))
    anyio.run(lambda: _remind(other, "bo.other@example.com"))
    _run(capsys, "bookings", "cancel", first, "--reason", f"{NAME} asked; call her on {PHONE}")
    _run(capsys, "bookings", "cancel", second, "--reason", "ill")
    data_dir = tmp_path / "var"
    before = _stored_bytes(data_dir, postgres_url)
    assert CLIENT_EMAIL.encode() in before and NAME.lower().encode() in before

    exported = json.loads(_run(capsys, "clients", "export", "ANN.client@example.COM"))
    assert [b["id"] for b in exported["bookings"]] == [first, second]
    one = exported["bookings"][0]
    assert one["client"] == {"name": NAME, "email": CLIENT_EMAIL, "phone": PHONE}
    triggers = ["hold_placed", "payment_confirmed", "cancelled", "refund_issued"]
    assert [e["trigger"] for e in one["history"]] == triggers
    assert one["history"][2]["reason"] == f"{NAME} asked; call her on {PHONE}"
    assert one["paid"]["amount"] == 9000 and one["refunded"]["amount"] == 9000
    delivered = {(d["channel"], d["event"]) for d in one["deliveries"] if d["delivered_at"]}
    assert {("email:client", "payment_confirmed"), ("email:client", "cancelled")} <= delivered
    assert [b["type"] for b in one["webhook_bodies"]] == [
        "booking.confirmed",
        "booking.cancelled",
        "booking.refunded",
    ]
    assert one["webhook_bodies"][0]["data"]["booking"]["client"]["email"] == CLIENT_EMAIL
    assert {e["data"]["booking_id"] for e in subscriber.events} >= {first, second}
    assert [(r["minutes_before"], r["failed_attempts"], r["last_error"]) for r in one["reminders"]] == [
        (24 * 60, 0, None),
        (2 * 60, 1, f"452 <{CLIENT_EMAIL}>: mailbox full"),
    ]
    assert one["reminders"][0]["sent_at"] is not None and one["reminders"][1]["sent_at"] is None
    assert {datetime.fromisoformat(r["session_start"]) for r in one["reminders"]} == {
        datetime.fromisoformat(one["start"])
    }
    assert exported["bookings"][1]["reminders"] == []  # the other client's are not in it either
    kept = exported["emails_kept"]
    assert kept and all(CLIENT_EMAIL in mail["to"].lower() for mail in kept)
    assert any("Cancelled" in mail["subject"] for mail in kept)
    output = tmp_path / "ann.json"
    assert "2 bookings" in _run(capsys, "clients", "export", CLIENT_EMAIL, "--output", str(output))
    assert json.loads(output.read_text())["bookings"] == exported["bookings"]
    output.unlink()  # the copy went to the client; it is not kept here

    erased = _run(capsys, "clients", "erase", "Ann.Client@EXAMPLE.com")
    assert f"erased: 2 bookings anonymised, {len(kept)} kept e-mails deleted" in erased
    after = _stored_bytes(data_dir, postgres_url)
    for trace in (CLIENT_EMAIL, NAME, PHONE, "Ann C.", "4930 1234567"):
        assert trace.lower().encode() not in after, f"{trace!r} is still stored"
    assert b"bo.other@example.com" in after and b"bo other" in after  # the search sees what is there

    again = json.loads(_run(capsys, "clients", "export", CLIENT_EMAIL))
    assert again["bookings"] == [] and again["emails_kept"] == []
    assert "erased: 0 bookings" in _run(capsys, "clients", "erase", CLIENT_EMAIL)
    shown = _run(capsys, "bookings", "show", first)
    assert "(erased)" in shown and "90.00 EUR" in shown and "[erased] asked; call her on [erased]" in shown
    assert other in _run(capsys, "bookings", "list", "--start", next_weekday(0).isoformat())


def test_erasing_a_client_with_a_session_ahead_is_refused(
    deployment: tuple[FakeStripe, str | None], capsys: pytest.CaptureFixture[str]
) -> None:
    stripe, _ = deployment
    ahead = anyio.run(lambda: _book(stripe, 0, NAME, CLIENT_EMAIL, PHONE))
    with pytest.raises(SystemExit) as exited:
        main(["clients", "erase", CLIENT_EMAIL])
    assert exited.value.code == 1
    assert ahead in capsys.readouterr().err
    listed: Any = json.loads(_run(capsys, "clients", "export", CLIENT_EMAIL))
    assert listed["bookings"][0]["client"]["name"] == NAME  # nothing changed
