"""The reminder e-mail: sent by the outbox relay when due, in the client's time zone, with the
manage link and the session's location; the confirmation names the location too."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from attrs import evolve

from booking_adapters.mail import Audience, EmailChannel, ReminderMail
from booking_adapters.memory import MemoryDirectory, MemoryReminderLedger
from booking_core import OutboxRelay, ReminderRelay, Service
from tests.unit.notifications.world import CLIENT_EMAIL, PRACTITIONER, PUBLIC_BASE_URL, CollectedMail, World

pytestmark = pytest.mark.anyio
LOCATION = "Praxis <Mitte>, Hauptstraße 1 & 2, Berlin"
LOCATED = evolve(
    PRACTITIONER,
    services=(
        Service("session", "Session", timedelta(minutes=50), PRACTITIONER.offer.price, location=LOCATION),
    ),
)


def _parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


async def relay_with_reminders(world: World, outgoing: CollectedMail) -> OutboxRelay:
    channels = world.channels(outgoing)
    (client,) = [c for c in channels if isinstance(c, EmailChannel) and c.audience is Audience.CLIENT]
    reminders = ReminderRelay(
        MemoryReminderLedger(world.store), world.directory, ReminderMail(client), world.clock
    )
    relay = OutboxRelay(world.store, channels, world.clock, reminders=reminders)
    await relay.run_once()  # registers the channels
    return relay


async def test_the_reminder_goes_a_day_before_in_the_clients_zone_with_manage_link_and_location() -> None:
    world = World(directory=MemoryDirectory.of([LOCATED]))
    outgoing = CollectedMail()
    relay = await relay_with_reminders(world, outgoing)
    booking = await world.confirmed_booking(nth_slot=20)
    await relay.run_once()
    (confirmation,) = outgoing.to(CLIENT_EMAIL)
    assert f"Where: {LOCATION}" in _parts(confirmation)[0]

    world.clock.set(booking.slot.start - timedelta(hours=24))
    report = await relay.run_once()
    assert report.delivered == 1
    _, reminder = outgoing.to(CLIENT_EMAIL)
    text, html = _parts(reminder)
    local = booking.slot.start.astimezone(ZoneInfo("America/New_York"))
    assert str(reminder["Subject"]).startswith("Reminder: your session with Dr. Jane Doe on ")
    assert f"{local:%H:%M}" in str(reminder["Subject"]) and "America/New_York" in text
    manage = f"{PUBLIC_BASE_URL}/booking/{booking.id}/manage?token={world.ids.cancel_token(booking.id)}"
    assert manage in text and f'href="{manage}"' in html
    assert f"Where: {LOCATION}" in text
    assert "Praxis &lt;Mitte&gt;, Hauptstraße 1 &amp; 2, Berlin" in html  # escaped
    assert reminder["Auto-Submitted"] == "auto-generated"

    await relay.run_once()
    world.clock.advance(timedelta(hours=1))
    await relay.run_once()
    assert len(outgoing.to(CLIENT_EMAIL)) == 2  # once


async def test_a_reminder_without_location_says_nothing_of_one_and_is_the_same_message_when_sent_again() -> (
    None
):
    world = World()
    outgoing = CollectedMail()
    relay = await relay_with_reminders(world, outgoing)
    booking = await world.confirmed_booking(nth_slot=20)
    assert relay.reminders is not None
    (planned,) = await relay.reminders.planned()
    practitioner = await world.directory.get(booking.practitioner_id)
    assert practitioner is not None
    mail = relay.reminders.sender
    await mail.send(planned, booking, practitioner)
    await mail.send(planned, booking, practitioner)  # as after a crash before it was recorded
    first, again = outgoing.to(CLIENT_EMAIL)[-2:]
    assert "Where:" not in _parts(first)[0]
    assert first.as_bytes() == again.as_bytes()
    assert first["Message-ID"] == again["Message-ID"] and CLIENT_EMAIL not in str(first["Message-ID"])
