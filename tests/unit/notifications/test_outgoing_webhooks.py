"""Outgoing webhooks: which events, what body, how signed, and what each answer means."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from booking_adapters.outgoing_webhooks import (
    SIGNATURE_HEADER,
    WebhookChannel,
    channel_name,
    parse_webhook_urls,
)
from booking_core import OutboxItem, PaymentEvent, PaymentEventKind, ProviderError
from tests.unit.notifications.servers import verify_signature
from tests.unit.notifications.world import CLIENT_EMAIL, WEBHOOK_SECRET, CollectedMail, World

URL = "https://crm.example.org/hooks?key=s3cret"


class Subscriber:
    """An httpx transport standing in for the subscriber's server."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status)


def _channel(world: World, subscriber: Subscriber) -> WebhookChannel:
    http = httpx.AsyncClient(transport=httpx.MockTransport(subscriber))
    return WebhookChannel(URL, WEBHOOK_SECRET, world.store, world.clock, http)


async def _items(world: World, booking_id: str) -> list[OutboxItem]:
    events = await world.store.history(booking_id)
    everything = world.store._log  # seq = position in the one history log, from 1
    return [OutboxItem(everything.index(event) + 1, event, 0) for event in events]


@pytest.mark.anyio
async def test_a_confirmation_is_posted_signed_with_a_stable_id_and_no_phone(world: World) -> None:
    booking = await world.confirmed_booking()
    hold_placed, confirmed = await _items(world, booking.id)
    subscriber = Subscriber()
    channel = _channel(world, subscriber)

    await channel.deliver(hold_placed)  # not an event subscribers hear of
    await channel.deliver(confirmed)
    world.clock.advance(timedelta(minutes=10))
    await channel.deliver(confirmed)  # a redelivery: same event id, fresh signature

    first, again = subscriber.requests
    body = json.loads(first.content)
    assert body["type"] == "booking.confirmed"
    assert body["id"] == json.loads(again.content)["id"] == f"evt_{confirmed.seq}"
    assert body["data"]["booking"]["id"] == booking.id
    assert body["data"]["booking"]["client"] == {"name": "Ann Example", "email": CLIENT_EMAIL}
    assert body["data"]["to_status"] == "confirmed"
    assert body["data"]["booking"]["price"] == {"amount": 9000, "currency": "EUR"}
    assert body["data"]["booking"]["service"] == {"id": "session", "name": "Session"}
    assert "+49" not in first.content.decode() and "phone" not in first.content.decode()
    for request, sent_at in ((first, world.clock.now() - timedelta(minutes=10)), (again, world.clock.now())):
        header = request.headers[SIGNATURE_HEADER]
        assert header.startswith(f"t={int(sent_at.timestamp())},v1=")
        assert verify_signature(WEBHOOK_SECRET, header, request.content, sent_at.timestamp())
        assert not verify_signature(b"whsec_fake_other", header, request.content, sent_at.timestamp())
    assert first.headers[SIGNATURE_HEADER] != again.headers[SIGNATURE_HEADER]


@pytest.mark.anyio
async def test_cancellation_expiry_and_refund_have_their_own_types(world: World) -> None:
    paid = await world.confirmed_booking(nth_slot=20)
    await world.service.cancel_booking(paid.id, world.ids.cancel_token(paid.id))
    unpaid = await world.hold(nth_slot=30)
    world.clock.advance(timedelta(hours=1))
    await world.service.release_lapsed_holds()
    subscriber = Subscriber()
    channel = _channel(world, subscriber)
    for item in [*await _items(world, paid.id), *await _items(world, unpaid.id)]:
        await channel.deliver(item)
    types = [json.loads(r.content)["type"] for r in subscriber.requests]
    assert types == ["booking.confirmed", "booking.cancelled", "booking.refunded", "booking.expired"]


@pytest.mark.anyio
async def test_a_full_refund_in_the_dashboard_is_a_cancellation_to_subscribers(world: World) -> None:
    paid = await world.confirmed_booking(nth_slot=20)
    refunded = PaymentEvent(
        "evt_dashboard", PaymentEventKind.REFUNDED, paid.id, refunded_total=paid.amount_paid
    )
    await world.service.apply_payment_event(refunded)
    subscriber = Subscriber()
    channel = _channel(world, subscriber)
    for item in await _items(world, paid.id):
        await channel.deliver(item)
    bodies = [json.loads(r.content) for r in subscriber.requests]
    assert [b["type"] for b in bodies] == ["booking.confirmed", "booking.cancelled"]
    assert bodies[1]["data"]["booking"]["status"] == "cancelled"


@pytest.mark.anyio
async def test_completed_and_no_show_have_their_own_types_and_mail_nobody(world: World) -> None:
    """Housekeeping's completion, a no-show and its taking back (the session took place after all:
    `booking.completed` again); the client and the practitioner get no e-mail of any of them."""
    done = await world.confirmed_booking(nth_slot=20)
    missed = await world.confirmed_booking(nth_slot=30)
    mail = CollectedMail()
    relay = await world.relay(mail)  # its channels start here: after the confirmations
    world.clock.set(missed.slot.end)
    await world.service.complete_ended_sessions()
    practitioner = missed.practitioner_id
    await world.service.mark_no_show(practitioner, missed.id)
    await world.service.undo_no_show(practitioner, missed.id)
    await world.service.mark_no_show(practitioner, missed.id)
    await relay.run_once()
    assert mail.sent == []
    subscriber = Subscriber()
    channel = _channel(world, subscriber)
    for item in [*await _items(world, done.id), *await _items(world, missed.id)]:
        await channel.deliver(item)
    bodies = [json.loads(r.content) for r in subscriber.requests]
    assert [b["type"] for b in bodies] == [
        *["booking.confirmed", "booking.completed"],
        *[
            "booking.confirmed",
            "booking.completed",
            "booking.no_show",
            "booking.completed",
            "booking.no_show",
        ],
    ]
    no_show = bodies[4]["data"]
    assert (no_show["from_status"], no_show["to_status"]) == ("completed", "no_show")
    assert no_show["booking"]["status"] == "no_show"  # as it is at delivery


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (400, False),
        (401, False),
        (404, False),
        (410, False),
        (408, True),
        (429, True),
        (500, True),
        (503, True),
    ],
)
@pytest.mark.anyio
async def test_an_error_answer_is_retried_unless_the_subscriber_refuses(
    world: World, status: int, retryable: bool
) -> None:
    booking = await world.confirmed_booking()
    confirmed = (await _items(world, booking.id))[-1]
    with pytest.raises(ProviderError) as caught:
        await _channel(world, Subscriber(status)).deliver(confirmed)
    assert caught.value.retryable is retryable
    assert str(status) in str(caught.value)


@pytest.mark.anyio
async def test_an_unreachable_subscriber_is_retried(world: World) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    booking = await world.confirmed_booking()
    channel = WebhookChannel(
        URL,
        WEBHOOK_SECRET,
        world.store,
        world.clock,
        httpx.AsyncClient(transport=httpx.MockTransport(refuse)),
    )
    with pytest.raises(ProviderError) as caught:
        await channel.deliver((await _items(world, booking.id))[-1])
    assert caught.value.retryable
    assert "s3cret" not in str(caught.value)


def test_channel_names_are_per_url_and_do_not_show_it() -> None:
    assert channel_name(URL) == channel_name(URL)
    assert channel_name(URL) != channel_name("https://other.example.org/hooks")
    assert channel_name(URL).startswith("webhook:") and "s3cret" not in channel_name(URL)


def test_webhook_urls_are_a_comma_separated_list() -> None:
    assert parse_webhook_urls(None) == parse_webhook_urls(" ") == []
    assert parse_webhook_urls("https://a.example/h, http://b.example/h,https://a.example/h,") == [
        "https://a.example/h",
        "http://b.example/h",
    ]
    with pytest.raises(ValueError, match=r"entry 2 ") as caught:
        parse_webhook_urls("https://a.example/h,ftp://user:secret@c.example")
    assert "secret" not in str(caught.value)  # the message names positions, never a URL
