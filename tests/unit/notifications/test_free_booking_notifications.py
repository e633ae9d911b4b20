"""A free service's booking is heard of as a paid one's confirmation: the client's and the
practitioner's confirmation e-mails with the invite, and `booking.confirmed` to webhook subscribers,
through the same outbox; a cancellation is announced and refunds nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from email.message import EmailMessage

import httpx
import pytest
from attrs import evolve

from booking_core import Booking, BookingRequest, Money, Service, TimeRange
from tests.unit.notifications.world import (
    CLIENT_EMAIL,
    CLIENT_PHONE,
    PRACTITIONER,
    PRACTITIONER_EMAIL,
    CollectedMail,
    World,
)

INTRO = Service("intro", "Free intro call", timedelta(minutes=15), Money(0, "EUR"))
SESSION = Service("session", "Session", timedelta(minutes=50), PRACTITIONER.offer.price)


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def _free_booking(world: World) -> Booking:
    await world.directory.upsert(evolve(PRACTITIONER, services=(INTRO, SESSION)))
    window = TimeRange.of(world.clock.now(), timedelta(days=14))
    slots = (await world.service.list_availability(PRACTITIONER.id, window, "intro")).slots
    request = BookingRequest(
        PRACTITIONER.id, slots[0].start, "Ann Example", CLIENT_EMAIL, CLIENT_PHONE, service_id="intro"
    )
    return (await world.service.request_booking(request)).booking


@pytest.mark.anyio
async def test_a_free_booking_mails_both_confirmations_with_nothing_paid(world: World) -> None:
    outgoing = CollectedMail()
    relay = await world.relay(outgoing)
    booking = await _free_booking(world)
    await relay.run_once()

    (client_mail,) = outgoing.to(CLIENT_EMAIL)
    (practitioner_mail,) = outgoing.to(PRACTITIONER_EMAIL)
    for message in (client_mail, practitioner_mail):
        text = _text(message)
        assert "Free intro call" in text and "nothing (free)" in text
        assert [a.get_content_type() for a in message.iter_attachments()] == ["text/calendar"]
    client_text = _text(client_mail)
    assert "Nothing to pay: cancel at any time before the session starts." in client_text
    assert world.ids.cancel_token(booking.id) in client_text
    assert world.gateway.sessions == {}


@pytest.mark.anyio
async def test_a_free_booking_is_posted_as_confirmed_and_its_cancellation_as_cancelled(world: World) -> None:
    requests: list[httpx.Request] = []

    def subscriber(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200)

    http = httpx.AsyncClient(transport=httpx.MockTransport(subscriber))
    relay = await world.relay(CollectedMail(), ["https://crm.example.org/hooks"], http)
    booking = await _free_booking(world)
    cancelled = await world.service.cancel_booking(booking.id, world.ids.cancel_token(booking.id))
    await relay.run_once()

    bodies = [json.loads(r.content) for r in requests]
    assert [(b["type"], b["data"]["from_status"], b["data"]["to_status"]) for b in bodies] == [
        ("booking.confirmed", None, "confirmed"),
        ("booking.cancelled", "confirmed", "cancelled"),
    ]
    assert cancelled.refund_owed is None and world.gateway.refunds == {}
