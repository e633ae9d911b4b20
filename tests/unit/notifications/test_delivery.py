"""End to end through the outbox: a real SMTP server and real webhook subscribers on 127.0.0.1,
bookings driven through BookingService over the memory fakes, the relay stepped by a manual clock.
A confirmed booking yields exactly one e-mail to each side and one signed webhook per subscriber,
whatever was down when it happened."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from booking_adapters.mail import SmtpSettings, SmtpTransport
from booking_core import OutboxRelay
from tests.unit.notifications.servers import SmtpSink, WebhookReceiver
from tests.unit.notifications.world import CLIENT_EMAIL, PRACTITIONER_EMAIL, WEBHOOK_SECRET, World

RELAY_STEPS = 200  # bounds every "until delivered" loop


@pytest.fixture
def receivers(world: World) -> Iterator[list[WebhookReceiver]]:
    """Two subscribers, not yet started, checking signatures against the world's clock."""
    started = [WebhookReceiver(WEBHOOK_SECRET, lambda: world.clock.now().timestamp()) for _ in range(2)]
    yield started
    for receiver in started:
        receiver.stop()


def _smtp(sink: SmtpSink) -> SmtpTransport:
    return SmtpTransport(SmtpSettings.from_url(sink.url))


async def _relay(
    world: World, sink: SmtpSink, receivers: list[WebhookReceiver], http: httpx.AsyncClient
) -> OutboxRelay:
    return await world.relay(_smtp(sink), [r.url for r in receivers], http)


def _assert_exactly_one_each(sink: SmtpSink, receivers: list[WebhookReceiver], booking_id: str) -> None:
    for address in (CLIENT_EMAIL, PRACTITIONER_EMAIL):
        (message,) = sink.to(address)
        (invite,) = list(message.iter_attachments())
        assert invite.get_content_type() == "text/calendar"
        assert booking_id in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for receiver in receivers:
        assert receiver.rejected == 0
        (event,) = receiver.events
        assert (event["type"], event["data"]["booking_id"]) == ("booking.confirmed", booking_id)


@pytest.mark.anyio
async def test_a_confirmed_booking_sends_one_mail_to_each_side_and_one_webhook_per_subscriber(
    world: World, smtp: SmtpSink, receivers: list[WebhookReceiver], http: httpx.AsyncClient
) -> None:
    smtp.start()
    for receiver in receivers:
        receiver.start()
    relay = await _relay(world, smtp, receivers, http)
    booking = await world.confirmed_booking()

    report = await relay.run_once()
    world.clock.advance(timedelta(hours=1))
    again = await relay.run_once()

    assert report.failed == report.gave_up == 0
    assert again.delivered == 0  # nothing left, nothing sent twice
    _assert_exactly_one_each(smtp, receivers, booking.id)
    assert await world.store.failures() == []


@pytest.mark.anyio
async def test_smtp_server_and_subscribers_down_at_confirmation_get_everything_once_they_are_back(
    world: World, smtp: SmtpSink, receivers: list[WebhookReceiver], http: httpx.AsyncClient
) -> None:
    relay = await _relay(world, smtp, receivers, http)
    booking = await world.confirmed_booking()

    down = await relay.run_once()
    failures = await world.store.failures()
    assert down.failed == len(failures) == 2 + len(receivers)  # both e-mails, every subscriber
    assert all(f.next_attempt_at is not None and f.booking_id == booking.id for f in failures)
    assert not any(CLIENT_EMAIL in f.last_error or PRACTITIONER_EMAIL in f.last_error for f in failures)

    # Three hours of outage: the relay keeps retrying with growing gaps.
    for _ in range(RELAY_STEPS):
        world.clock.advance(timedelta(minutes=10))
        await relay.run_once()
        if world.clock.now() - booking.updated_at > timedelta(hours=3):
            break
    assert min(f.attempts for f in await world.store.failures()) > 3

    smtp.start()
    for receiver in receivers:
        receiver.start()
    for _ in range(RELAY_STEPS):
        world.clock.advance(timedelta(minutes=10))
        await relay.run_once()
        if not await world.store.failures():
            break
    _assert_exactly_one_each(smtp, receivers, booking.id)


@pytest.mark.anyio
async def test_a_new_relay_after_a_crash_delivers_what_was_not_marked_and_repeats_nothing_marked(
    world: World, smtp: SmtpSink, receivers: list[WebhookReceiver], http: httpx.AsyncClient
) -> None:
    smtp.start()
    for receiver in receivers:
        receiver.start()
    first = await _relay(world, smtp, receivers, http)
    delivered = await world.confirmed_booking(nth_slot=0)
    await first.run_once()  # all of the first booking's notifications are out and marked

    interrupted = await world.confirmed_booking(nth_slot=10)
    # The first relay claims the second booking's events, sends the client's e-mail, and dies
    # before marking anything.
    for channel in first.channels:
        for item in await world.store.claim(channel.name, world.clock.now()):
            if channel.name == "email:client":
                await channel.deliver(item)

    second = await _relay(world, smtp, receivers, http)  # after the restart: new channels, same store
    assert (await second.run_once()).delivered == 0  # the crashed relay's lease still holds
    world.clock.advance(timedelta(minutes=2))  # ... until it runs out
    await second.run_once()
    world.clock.advance(timedelta(hours=1))
    assert (await second.run_once()).delivered == 0

    # Marked work was not repeated: one of each for the first booking.
    _assert_exactly_one_each_for(smtp, receivers, delivered.id, client_mails=1)
    # Unmarked work was done by the new relay; the client's e-mail, sent but not marked before the
    # crash, went out again as the same message (same Message-ID), which receivers deduplicate.
    _assert_exactly_one_each_for(smtp, receivers, interrupted.id, client_mails=2)
    ids = Counter(str(m["Message-ID"]) for m in smtp.to(CLIENT_EMAIL))
    assert sorted(ids.values()) == [1, 2]


def _assert_exactly_one_each_for(
    sink: SmtpSink, receivers: list[WebhookReceiver], booking_id: str, *, client_mails: int
) -> None:
    def about(address: str) -> int:
        return sum(booking_id in m.get_body(("plain",)).get_content() for m in sink.to(address))  # type: ignore[union-attr]

    assert (about(CLIENT_EMAIL), about(PRACTITIONER_EMAIL)) == (client_mails, 1)
    for receiver in receivers:
        assert [e["data"]["booking_id"] for e in receiver.events].count(booking_id) == 1


@pytest.mark.anyio
async def test_failures_stay_visible_and_refusals_give_up_at_once(
    world: World, smtp: SmtpSink, receivers: list[WebhookReceiver], http: httpx.AsyncClient
) -> None:
    smtp.refuse.add(CLIENT_EMAIL)
    smtp.start()
    gone = receivers[0]  # the other one never comes up
    gone.status = 410
    gone.start()
    relay = await _relay(world, smtp, receivers, http)
    await world.confirmed_booking()
    confirmed_at = world.clock.now()

    report = await relay.run_once()
    assert (report.gave_up, report.failed) == (2, 1)
    assert len(smtp.to(PRACTITIONER_EMAIL)) == 1  # one refusal does not hold up the other side
    failures = {f.channel: f for f in await world.store.failures()}
    assert failures["email:client"].next_attempt_at is None and "550" in failures["email:client"].last_error
    gone_name, down_name = (c.name for c in relay.channels[2:])
    assert failures[gone_name].next_attempt_at is None and "410" in failures[gone_name].last_error
    assert failures[down_name].next_attempt_at is not None

    # A subscriber that never comes back is retried for two days (at least one), then given up.
    # (Two-hour steps: see test_hourly_retries_for_two_days for what hourly steps run into.)
    for _ in range(RELAY_STEPS):
        world.clock.advance(timedelta(hours=2))
        await relay.run_once()
        failure = next(f for f in await world.store.failures() if f.channel == down_name)
        if failure.next_attempt_at is None:
            break
    assert failure.next_attempt_at is None
    assert world.clock.now() - confirmed_at > timedelta(hours=24)
    assert failure.attempts > 12
    assert len(smtp.to(PRACTITIONER_EMAIL)) == 1


@pytest.mark.anyio
async def test_hourly_retries_for_two_days_end_in_giving_up(
    world: World, smtp: SmtpSink, receivers: list[WebhookReceiver], http: httpx.AsyncClient
) -> None:
    smtp.start()
    relay = await _relay(world, smtp, receivers[:1], http)  # the subscriber never comes up
    await world.confirmed_booking()
    for _ in range(RELAY_STEPS):
        world.clock.advance(timedelta(hours=1))
        await relay.run_once()
        (failure,) = await world.store.failures()
        if failure.next_attempt_at is None:
            break
    assert failure.next_attempt_at is None
