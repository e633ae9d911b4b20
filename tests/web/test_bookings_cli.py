"""`booking bookings list/show/cancel/move` on the embedded SQLite file, with payments on the fake Stripe
server (refunds made from the command's own process must reach the provider)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import anyio
import pytest

from booking_adapters import sql
from booking_adapters.testing.fake_stripe import FakeStripe, running
from booking_core import Booking, BookingRequest, ClientDetails, Money, SlotUnavailable, TimeRange, Trigger
from booking_core.testing.transitions import take
from booking_web.bootstrap import open_container
from booking_web.cli import main
from booking_web.local_days import days_window
from booking_web.settings import Settings
from booking_web.webhooks import receive_payment_webhook
from tests.web.embedded import CLIENT_EMAIL, next_weekday
from tests.web.test_cli import TEAM

MONDAY = 0


@pytest.fixture(autouse=True)
def stripe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    with deployment_on_fake_stripe(tmp_path, monkeypatch) as fake:
        yield fake


@contextmanager
def deployment_on_fake_stripe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str] | None = None
) -> Iterator[FakeStripe]:
    """The environment of a deployment (embedded SQLite in tmp_path/var, or what `env` adds) with
    payments on a fake Stripe server, and the team imported (its first start)."""
    for name in ("DATABASE_URL", "BOOKING_SECRET_KEY", "SMTP_URL", "WEBHOOK_URLS", "CALCOM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BOOKING_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fake = FakeStripe()
    with running(fake) as url:
        monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_fake_cli")
        monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", fake.webhook_secret)
        monkeypatch.setenv("STRIPE_API_BASE", url)
        team = tmp_path / "team.toml"
        team.write_text(TEAM)
        main(["practitioners", "import", str(team)])  # also the deployment's first start
        yield fake


async def _book(practitioner_id: str, day: date, stripe: FakeStripe | None, *, slot: int = 0) -> str:
    """Hold the `slot`-th free slot of `day` (and pay it on the fake Stripe); the booking id."""
    async with open_container(Settings.from_env(os.environ)) as container:
        service = container.service
        practitioner = await service.practitioner(practitioner_id)
        window = TimeRange(*days_window(day, day, practitioner.timezone))
        start = (await service.list_availability(practitioner_id, window)).slots[slot].start
        request = BookingRequest(
            practitioner_id, start, "Ann Client", CLIENT_EMAIL, "+49 30 1234567", "Europe/Paris"
        )
        hold = await service.request_booking(request)
        if stripe is not None:
            assert hold.booking.checkout_session_id is not None
            webhook = stripe.complete(hold.booking.checkout_session_id)
            await receive_payment_webhook(service, webhook.payload, webhook.headers)
        return hold.booking.id


def book(practitioner_id: str, day: date, stripe: FakeStripe | None, *, slot: int = 0) -> str:
    return anyio.run(lambda: _book(practitioner_id, day, stripe, slot=slot))


def _out(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    main(list(argv))
    return capsys.readouterr().out


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    assert exited.value.code == 1
    return capsys.readouterr().err


def test_list_shows_a_table_filtered_by_practitioner_days_and_status(
    stripe: FakeStripe, capsys: pytest.CaptureFixture[str]
) -> None:
    monday, next_monday = next_weekday(MONDAY), next_weekday(MONDAY, weeks_ahead=2)
    paid = book("ann-bo", monday, stripe)
    held = book("ann-bo", monday, None, slot=1)
    later = book("ann-bo", next_monday, None)

    header, *rows = _out(capsys, "bookings", "list", "--start", monday.isoformat()).splitlines()
    columns = "id start practitioner service status client email phone paid"
    assert header.split() == columns.split()
    assert [row.split()[0] for row in rows] == [paid, held, later]  # by start
    first = rows[0].split("  ")
    assert {"ann-bo", "confirmed", "Ann Client", CLIENT_EMAIL, "+49301234567", "90.00 EUR"} <= {
        cell.strip() for cell in first
    }
    local_start = f"{monday.isoformat()} 09:00+0"  # 09:00 in Berlin, with the offset of that day
    assert local_start in rows[0]

    one_day = ["--start", monday.isoformat(), "--end", monday.isoformat()]
    assert [row.split()[0] for row in _out(capsys, "bookings", "list", *one_day).splitlines()[1:]] == [
        paid,
        held,
    ]
    pending = _out(capsys, "bookings", "list", *one_day, "--status", "pending_payment")
    assert [row.split()[0] for row in pending.splitlines()[1:]] == [held]
    assert _out(capsys, "bookings", "list", *one_day, "--practitioner", "ben-cho").strip() == "no bookings"
    assert "There is no practitioner 'nobody'" in _refused(
        capsys, "bookings", "list", "--practitioner", "nobody"
    )


def test_list_json_gives_each_booking_with_the_clients_contact(
    stripe: FakeStripe, capsys: pytest.CaptureFixture[str]
) -> None:
    monday = next_weekday(MONDAY)
    paid = book("ann-bo", monday, stripe)
    listed = json.loads(_out(capsys, "bookings", "list", "--json", "--start", monday.isoformat()))
    assert len(listed) == 1
    (booking,) = listed
    assert booking["id"] == paid and booking["practitioner_id"] == "ann-bo"
    assert booking["status"] == "confirmed"
    assert booking["client"] == {"name": "Ann Client", "email": CLIENT_EMAIL, "phone": "+4930123" + "4567"}
    assert booking["paid"] == {"amount": 9000, "currency": "EUR", "formatted": "90.00 EUR"}
    assert booking["refunded"] is None
    start = datetime.fromisoformat(booking["start"])
    assert start.date() == monday and start.hour == 9  # the practitioner's local time, with its offset
    assert datetime.fromisoformat(booking["end"]) - start == timedelta(minutes=50)


def test_show_gives_the_booking_and_its_history(
    stripe: FakeStripe, capsys: pytest.CaptureFixture[str]
) -> None:
    paid = book("ann-bo", next_weekday(MONDAY), stripe)
    shown = _out(capsys, "bookings", "show", paid).splitlines()
    assert f"booking       {paid}" in shown
    assert "status        confirmed" in shown
    assert "practitioner  ann-bo (Ann Bo)" in shown
    assert f"client        Ann Client <{CLIENT_EMAIL}> +4930123" + "4567 (time zone Europe/Paris)" in shown
    assert "paid          90.00 EUR" in shown
    history = shown[shown.index("history:") + 1 :]
    assert [line.split()[2] for line in history] == ["hold_placed", "payment_confirmed"]
    assert "- -> pending_payment  slot held for payment" in history[0]
    assert _refused(capsys, "bookings", "show", "no-such-booking").strip() == "There is no such booking."


def _mail_to(data_dir: Path, address: str) -> list[Message]:
    mails = [message_from_bytes(path.read_bytes()) for path in sorted((data_dir / "mailbox").glob("*.eml"))]
    return [mail for mail in mails if address in str(mail["To"])]


def test_cancel_refunds_every_cent_paid_and_emails_the_client(
    stripe: FakeStripe, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paid = book("ann-bo", next_weekday(MONDAY), stripe)
    out = _out(capsys, "bookings", "cancel", paid, "--reason", "The practitioner is ill")
    assert out.splitlines() == [f"cancelled {paid}", "refunded 90.00 EUR"]
    (refund,) = stripe.refunds.values()
    assert refund["amount"] == 9000 and refund["metadata"]["booking_id"] == paid

    shown = _out(capsys, "bookings", "show", paid)
    assert "status        cancelled" in shown
    assert "cancelled  confirmed -> cancelled  The practitioner is ill" in shown
    assert "refund_issued" in shown

    # Delivered by the command (no server ran): the confirmation, still undelivered, went unsent.
    (cancellation,) = _mail_to(tmp_path / "var", CLIENT_EMAIL)
    assert "cancelled" in str(cancellation["Subject"]).lower()
    invite = next(part for part in cancellation.walk() if part.get_content_type() == "text/calendar")
    assert b"METHOD:CANCEL" in invite.get_payload(decode=True)

    again = _out(capsys, "bookings", "cancel", paid, "--reason", "twice")
    assert again.strip() == f"{paid} was cancelled already; nothing changed"
    assert len(stripe.refunds) == 1


def test_cancel_releases_an_unpaid_hold_and_closes_its_checkout(
    stripe: FakeStripe, capsys: pytest.CaptureFixture[str]
) -> None:
    held = book("ann-bo", next_weekday(MONDAY), None)
    assert _out(capsys, "bookings", "cancel", held, "--reason", "double booked").splitlines() == [
        f"cancelled {held}"
    ]
    assert stripe.session_of(held)["status"] == "expired"
    assert not stripe.refunds
    again = book("ann-bo", next_weekday(MONDAY), None)  # the day's first free slot
    listed = json.loads(
        _out(capsys, "bookings", "list", "--json", "--start", next_weekday(MONDAY).isoformat())
    )
    starts = {booking["id"]: booking["start"] for booking in listed}
    assert starts[again] == starts[held]  # is the one the hold had


async def _started_session(url: str) -> str:
    """A confirmed session that began ten minutes ago (written straight into the store)."""
    now = datetime.now(UTC)
    slot = TimeRange.of(now - timedelta(minutes=10), timedelta(minutes=50))
    booking, event = Booking.hold(
        booking_id="bk-started",
        practitioner_id="ann-bo",
        slot=slot,
        occupied=slot,
        client=ClientDetails("Ann Client", CLIENT_EMAIL, "+4930123" + "4567"),
        client_timezone="Europe/Berlin",
        price=Money(9000, "EUR"),
        hold_expires_at=now - timedelta(minutes=20),
        cancel_token="token",
        now=now - timedelta(hours=1),
    )
    database = await sql.open_database(url)
    try:
        await database.store.add_if_free(booking, event)
        confirmed, paid = take(booking, Trigger.PAYMENT_CONFIRMED, now - timedelta(hours=1))
        assert paid is not None
        await database.store.save(booking, confirmed, paid)
    finally:
        await database.close()
    return booking.id


def test_cancel_refuses_a_session_that_has_started(capsys: pytest.CaptureFixture[str]) -> None:
    started = anyio.run(_started_session, Settings.from_env(os.environ).database_location)
    err = _refused(capsys, "bookings", "cancel", started, "--reason", "too late")
    assert err.strip() == "A session that has started can no longer be cancelled."
    assert "status        confirmed" in _out(capsys, "bookings", "show", started)


def test_cancel_refuses_a_reason_over_500_characters(
    stripe: FakeStripe, capsys: pytest.CaptureFixture[str]
) -> None:
    paid = book("ann-bo", next_weekday(MONDAY), stripe)
    err = _refused(capsys, "bookings", "cancel", paid, "--reason", "x" * 501)
    assert err.strip() == "reason: Give at most 500 characters."
    assert "status        confirmed" in _out(capsys, "bookings", "show", paid)
    assert not stripe.refunds


def test_move_takes_a_free_start_and_refuses_a_taken_one(
    stripe: FakeStripe, capsys: pytest.CaptureFixture[str]
) -> None:
    day = next_weekday(MONDAY)
    paid = book("ann-bo", day, stripe)
    other = book("ann-bo", day, None, slot=1)
    listed = json.loads(_out(capsys, "bookings", "list", "--json", "--start", day.isoformat()))
    starts = {booking["id"]: booking["start"] for booking in listed}
    later = (datetime.fromisoformat(starts[other]) + timedelta(hours=2)).isoformat()
    out = _out(capsys, "bookings", "move", paid, later, "--reason", "A conference came up")
    local = datetime.fromisoformat(later)
    assert out.strip().startswith(f"{paid} is at {local:%Y-%m-%d %H:%M%z}")
    shown = _out(capsys, "bookings", "show", paid)
    assert "rescheduled  confirmed -> confirmed  A conference came up  (from " in shown
    assert _refused(capsys, "bookings", "move", paid, starts[other]).strip() == SlotUnavailable().message
    with pytest.raises(SystemExit) as unreadable:
        main(["bookings", "move", paid, "tomorrow"])
    assert unreadable.value.code == 2  # argparse's usage error
    again = json.loads(_out(capsys, "bookings", "list", "--json", "--start", day.isoformat()))
    assert {booking["id"]: booking["start"] for booking in again} == {paid: later, other: starts[other]}
