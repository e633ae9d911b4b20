"""What the e-mails say: content per event and audience, escaping, identity, determinism."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from zoneinfo import ZoneInfo

import icalendar
import pytest
from attrs import evolve

from booking_adapters.mail import Audience, EmailChannel, MailComposer
from booking_adapters.memory import MemoryDirectory
from booking_core import (
    ERASED,
    BookingRequest,
    BookingStatus,
    Money,
    OutboxItem,
    PaymentEvent,
    PaymentEventKind,
    Service,
    TimeRange,
)
from tests.unit.notifications.world import (
    CLIENT_EMAIL,
    MAIL_FROM,
    PRACTITIONER,
    PRACTITIONER_EMAIL,
    PUBLIC_BASE_URL,
    CollectedMail,
    World,
)


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def _invite(message: EmailMessage) -> icalendar.Calendar:
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    return icalendar.Calendar.from_ical(attachment.get_content())


@pytest.mark.anyio
async def test_client_confirmation_in_the_clients_time_zone_with_manage_link_and_invite(world: World) -> None:
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    booking = await world.confirmed_booking()
    await relay.run_once()

    (message,) = outgoing.to(CLIENT_EMAIL)
    local = booking.slot.start.astimezone(ZoneInfo("America/New_York"))
    text = _text(message)
    assert "Dr. Jane Doe" in str(message["Subject"])
    assert f"{local:%H:%M}" in text and "America/New_York" in text
    manage_url = f"{PUBLIC_BASE_URL}/booking/{booking.id}/manage?token={world.ids.cancel_token(booking.id)}"
    assert manage_url in text
    assert f'href="{manage_url}"' in _html(message)
    terms = "Full refund if you cancel at least 24 hours before the session; after that, no refund."
    assert f"Cancellation: {terms}" in text
    assert terms in _html(message)
    invite = _invite(message)
    assert invite["METHOD"] == "REQUEST"
    assert invite.walk("VEVENT")[0].decoded("DTSTART") == booking.slot.start
    assert str(message["From"]) == MAIL_FROM
    assert message["Auto-Submitted"] == "auto-generated"


@pytest.mark.anyio
async def test_practitioner_confirmation_names_the_client_in_the_practitioners_zone(world: World) -> None:
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    booking = await world.confirmed_booking()
    await relay.run_once()

    (message,) = outgoing.to(PRACTITIONER_EMAIL)
    text = _text(message)
    local = booking.slot.start.astimezone(ZoneInfo("Europe/Berlin"))
    assert "Ann Example" in text and CLIENT_EMAIL in text
    assert f"{local:%H:%M}" in text and "Europe/Berlin" in text
    assert "token=" not in text  # the client's secret stays with the client
    assert _invite(message)["METHOD"] == "REQUEST"


@pytest.mark.anyio
async def test_cancellation_goes_to_both_with_a_cancel_invite_for_the_same_event(world: World) -> None:
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    booking = await world.confirmed_booking(nth_slot=20)
    await relay.run_once()
    await world.service.cancel_booking(booking.id, world.ids.cancel_token(booking.id))
    await relay.run_once()

    for address in (CLIENT_EMAIL, PRACTITIONER_EMAIL):
        confirmation, cancellation = outgoing.to(address)
        requested = _invite(confirmation).walk("VEVENT")[0]
        cancelled = _invite(cancellation).walk("VEVENT")[0]
        assert _invite(cancellation)["METHOD"] == "CANCEL"
        assert requested["UID"] == cancelled["UID"]
        assert cancelled.decoded("SEQUENCE") > requested.decoded("SEQUENCE")
        assert confirmation["Message-ID"] != cancellation["Message-ID"]
    client_cancellation = outgoing.to(CLIENT_EMAIL)[1]
    assert "90.00 EUR goes back" in _text(client_cancellation)  # cancelled days ahead: full refund


@pytest.mark.anyio
async def test_the_practitioners_reason_reaches_the_client_and_no_default_does(world: World) -> None:
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    with_reason = await world.confirmed_booking(nth_slot=20)
    without = await world.confirmed_booking(nth_slot=22)
    by_client = await world.confirmed_booking(nth_slot=24)
    await world.service.cancel_for_practitioner(with_reason.id, "Ill <sorry>", after_start=False)
    await world.service.cancel_for_practitioner(without.id, "  ", after_start=False)
    await world.service.cancel_booking(by_client.id, world.ids.cancel_token(by_client.id))
    await relay.run_once()

    cancellations = [m for m in outgoing.to(CLIENT_EMAIL) if str(m["Subject"]).startswith("Cancelled")]
    assert len(cancellations) == 3
    said = {_text(m).split("Booking reference: ")[1].strip(): m for m in cancellations}
    assert f"{PRACTITIONER.name} wrote: Ill <sorry>" in _text(said[with_reason.id])
    assert "wrote: Ill &lt;sorry&gt;" in _html(said[with_reason.id])
    for other in (without.id, by_client.id):
        assert "wrote:" not in _text(said[other]) and "wrote:" not in _html(said[other])


@pytest.mark.anyio
async def test_late_payment_for_a_taken_slot_tells_the_client_about_the_refund(world: World) -> None:
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    late = await world.hold(nth_slot=20)
    world.clock.advance(timedelta(hours=1))  # the hold lapses ...
    taken = await world.confirmed_booking(nth_slot=20 - 1)  # ... and the slot goes to someone else
    assert taken.slot == late.slot
    assert (await world.pay(late)).status is BookingStatus.REFUNDED
    await relay.run_once()

    refund_mails = [m for m in outgoing.to(CLIENT_EMAIL) if "Refund" in str(m["Subject"])]
    (message,) = refund_mails
    assert "90.00 EUR" in _text(message)
    assert not list(message.iter_attachments())
    assert len(outgoing.to(PRACTITIONER_EMAIL)) == 1  # only the booking that stands


@pytest.mark.anyio
async def test_html_part_escapes_what_people_typed(world: World) -> None:
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    booking = await world.hold()
    # Names are validated but may hold markup; the HTML part must show it as text.
    odd = evolve(
        booking, version=booking.version + 1, client=evolve(booking.client, name="<script>x</script>")
    )
    await world.store.save(booking, odd, None)
    await world.pay(odd)
    await relay.run_once()

    for message in outgoing.sent:
        assert "<script>" not in _html(message)
        assert "&lt;script&gt;" in _html(message)


@pytest.mark.anyio
async def test_composing_one_event_twice_gives_identical_bytes(world: World) -> None:
    """A redelivery after a crash is the same message, so a receiver can drop it by Message-ID."""
    booking = await world.confirmed_booking()
    event = (await world.store.history(booking.id))[-1]
    channel = EmailChannel(
        Audience.CLIENT,
        world.store,
        world.directory,
        world.ids,
        CollectedMail(),
        MailComposer(MAIL_FROM),
        PUBLIC_BASE_URL,
    )
    item = OutboxItem(seq=3, event=event, attempts=0)
    await channel.deliver(item)
    world.clock.advance(timedelta(hours=5))
    await channel.deliver(OutboxItem(seq=3, event=event, attempts=2))
    assert isinstance(channel.transport, CollectedMail)
    first, again = channel.transport.sent
    assert first.as_bytes() == again.as_bytes()
    assert CLIENT_EMAIL not in str(first["Message-ID"])


@pytest.mark.anyio
async def test_a_practitioner_without_e_mail_gets_none(world: World) -> None:
    await world.directory.upsert(evolve(PRACTITIONER, email=None))
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    await world.confirmed_booking()
    await relay.run_once()
    assert [str(m["To"]) for m in outgoing.sent] == [f"Ann Example <{CLIENT_EMAIL}>"]


@pytest.mark.anyio
async def test_a_full_refund_in_the_dashboard_is_announced_as_a_cancellation(world: World) -> None:
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    booking = await world.confirmed_booking(nth_slot=20)
    await relay.run_once()
    paid = booking.amount_paid
    refunded = PaymentEvent("evt_dashboard", PaymentEventKind.REFUNDED, booking.id, refunded_total=paid)
    await world.service.apply_payment_event(refunded)
    await relay.run_once()

    for address in (CLIENT_EMAIL, PRACTITIONER_EMAIL):
        _confirmation, cancellation = outgoing.to(address)
        assert _invite(cancellation)["METHOD"] == "CANCEL"
    assert "90.00 EUR goes back" in _text(outgoing.to(CLIENT_EMAIL)[1])


@pytest.mark.anyio
async def test_the_e_mails_and_the_invite_name_the_service(world: World) -> None:
    intro = Service("intro", "Intro call", timedelta(minutes=20), Money(3000, "EUR"))
    session = Service("session", "Session", timedelta(minutes=50), Money(9000, "EUR"))
    world.directory = MemoryDirectory.of([evolve(PRACTITIONER, services=(session, intro))])
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    window = TimeRange.of(world.clock.now(), timedelta(days=14))
    slot = (await world.service.list_availability(PRACTITIONER.id, window, "intro")).slots[0]
    hold = await world.service.request_booking(
        BookingRequest(
            PRACTITIONER.id, slot.start, "Ann Example", CLIENT_EMAIL, "+49 30 1234567", service_id="intro"
        )
    )
    await world.pay(hold.booking)
    await relay.run_once()

    for address in (CLIENT_EMAIL, PRACTITIONER_EMAIL):
        (message,) = outgoing.to(address)
        assert "What:  Intro call" in _text(message)
        assert "<td>Intro call</td>" in _html(message)
        assert "Length: 20 minutes" in _text(message)
        assert str(_invite(message).walk("VEVENT")[0]["SUMMARY"]) == "Intro call with Dr. Jane Doe"


@pytest.mark.anyio
async def test_an_erased_client_is_mailed_no_more_and_the_practitioner_still_is(world: World) -> None:
    """A cancellation recorded just before an erasure, delivered after it: the client's address is
    gone (of the `.invalid` domain), so only the practitioner hears of it."""
    booking = await world.confirmed_booking()
    mail = CollectedMail()
    relay = await world.relay(mail)  # the channels start after the confirmation
    await world.service.cancel_for_practitioner(booking.id, "ill")
    await world.store.anonymise([booking.id], ERASED, [], world.clock.now())
    await relay.run_once()
    assert [parseaddr(str(m["To"]))[1] for m in mail.sent] == [PRACTITIONER_EMAIL]
    assert "(erased)" in str(mail.sent[0]["Subject"]) and CLIENT_EMAIL not in mail.sent[0].as_string()
