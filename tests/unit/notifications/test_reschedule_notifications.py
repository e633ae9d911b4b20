"""A move is heard of everywhere: both sides' e-mails with the new and the old time, an invite that
updates the event already in their calendars, and the `booking.rescheduled` webhook."""

from __future__ import annotations

import json
from datetime import timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import icalendar
import pytest

from booking_core import Booking, OutboxItem, TimeRange
from tests.unit.notifications.test_outgoing_webhooks import Subscriber, _channel, _items
from tests.unit.notifications.world import CLIENT_EMAIL, PRACTITIONER_EMAIL, CollectedMail, World

pytestmark = pytest.mark.anyio


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _event(message: EmailMessage) -> icalendar.Event:
    (attachment,) = list(message.iter_attachments())
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    event: icalendar.Event = calendar.walk("VEVENT")[0]
    event["X-METHOD"] = calendar["METHOD"]
    return event


def _local(slot: TimeRange, timezone: str) -> str:
    start = slot.start.astimezone(ZoneInfo(timezone))
    return f"{start:%A} {start.day} {start:%B %Y, %H:%M}"


async def test_both_sides_hear_the_new_and_the_old_time_in_their_zones(world: World) -> None:
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    booking = await world.confirmed_booking(nth_slot=20)
    await relay.run_once()
    moved = await world.move(booking, nth_slot=30)
    await relay.run_once()

    client_moved = outgoing.to(CLIENT_EMAIL)[-1]
    practitioner_moved = outgoing.to(PRACTITIONER_EMAIL)[-1]
    assert str(client_moved["Subject"]).startswith("Moved: your session with Dr. Jane Doe")
    for message, timezone in ((client_moved, "America/New_York"), (practitioner_moved, "Europe/Berlin")):
        text = _text(message)
        assert f"Now:   {_local(moved.slot, timezone)}" in text and f"({timezone})" in text
        assert f"Was:   {_local(booking.slot, timezone)}" in text
        event = _event(message)
        assert event["X-METHOD"] == "REQUEST"
        assert event.decoded("DTSTART") == moved.slot.start and event.decoded("DTEND") == moved.slot.end
    manage = f"/booking/{booking.id}/manage?token={world.ids.cancel_token(booking.id)}"
    assert manage in _text(client_moved)
    assert "token=" not in _text(practitioner_moved)


async def test_invites_keep_the_uid_and_each_version_outranks_the_last_up_to_the_cancel(world: World) -> None:
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    booking = await world.confirmed_booking(nth_slot=20)
    await relay.run_once()
    await world.move(booking, nth_slot=30)
    await relay.run_once()
    await world.move(booking, nth_slot=40)
    await relay.run_once()
    await world.service.cancel_booking(booking.id, world.ids.cancel_token(booking.id))
    await relay.run_once()

    for address in (CLIENT_EMAIL, PRACTITIONER_EMAIL):
        events = [_event(m) for m in outgoing.to(address)]
        assert [e["X-METHOD"] for e in events] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
        assert len({e["UID"] for e in events}) == 1
        sequences = [e.decoded("SEQUENCE") for e in events]
        assert sequences == sorted(set(sequences)), sequences  # strictly growing
        assert len({m["Message-ID"] for m in outgoing.to(address)}) == 4


async def test_a_move_heard_late_names_its_own_times_and_ranks_below_the_later_move(world: World) -> None:
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    booking = await world.confirmed_booking(nth_slot=20)
    await relay.run_once()
    first = await world.move(booking, nth_slot=30)
    second = await world.move(first, nth_slot=40)
    assert second.slot != first.slot

    await relay.run_once()  # both moves delivered now, the booking at its second new time

    _confirmed, first_mail, second_mail = outgoing.to(CLIENT_EMAIL)
    assert _event(first_mail).decoded("DTSTART") == first.slot.start
    assert f"Was:   {_local(booking.slot, 'America/New_York')}" in _text(first_mail)
    assert _event(second_mail).decoded("DTSTART") == second.slot.start
    assert _event(second_mail).decoded("SEQUENCE") > _event(first_mail).decoded("SEQUENCE")


async def test_moving_an_unpaid_hold_mails_nothing_and_its_confirmation_names_the_new_time(
    world: World,
) -> None:
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    held = await world.hold(nth_slot=20)
    moved = await world.move(held, nth_slot=30)
    await relay.run_once()
    assert outgoing.sent == []

    await world.pay(moved)
    await relay.run_once()

    (confirmation,) = outgoing.to(CLIENT_EMAIL)
    event = _event(confirmation)
    assert event.decoded("DTSTART") == moved.slot.start
    assert event.decoded("SEQUENCE") == 1  # the event's first version the client sees is after a move


async def test_the_practitioners_reason_for_a_move_reaches_the_client_and_no_default_does(
    world: World,
) -> None:
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    with_reason = await world.confirmed_booking(nth_slot=20)
    without = await world.confirmed_booking(nth_slot=22)
    world.clock.advance(timedelta(minutes=1))
    await world.service.reschedule_for_practitioner(
        with_reason.id, (await world.slots())[30].start, "Ill <sorry>"
    )
    await world.move(without, nth_slot=31)
    await relay.run_once()

    moved = {
        m["Message-ID"]: _text(m) for m in outgoing.to(CLIENT_EMAIL) if str(m["Subject"]).startswith("Moved")
    }
    said = {text.split("Booking reference: ")[1].strip(): text for text in moved.values()}
    assert "Dr. Jane Doe wrote: Ill <sorry>" in said[with_reason.id]
    assert "wrote:" not in said[without.id]
    (practitioners,) = [m for m in outgoing.to(PRACTITIONER_EMAIL) if "Ill" in _text(m)]
    assert "Why:   Ill <sorry>" in _text(practitioners)


async def test_a_move_is_posted_as_booking_rescheduled_with_the_old_and_new_times(world: World) -> None:
    booking = await world.confirmed_booking(nth_slot=20)
    moved = await world.move(booking, nth_slot=30)
    subscriber = Subscriber()
    channel = _channel(world, subscriber)
    items: list[OutboxItem] = await _items(world, booking.id)
    for item in items:
        await channel.deliver(item)

    bodies = [json.loads(r.content) for r in subscriber.requests]
    assert [b["type"] for b in bodies] == ["booking.confirmed", "booking.rescheduled"]
    data = bodies[1]["data"]
    assert (data["from_status"], data["to_status"]) == ("confirmed", "confirmed")
    assert data["moved_from"] == _span(booking)
    assert data["moved_to"] == _span(moved) == {k: data["booking"][k] for k in ("start", "end")}
    assert "moved_from" not in bodies[0]["data"]


def _span(booking: Booking) -> dict[str, str]:
    return {
        "start": booking.slot.start.isoformat().replace("+00:00", "Z"),
        "end": booking.slot.end.isoformat().replace("+00:00", "Z"),
    }
