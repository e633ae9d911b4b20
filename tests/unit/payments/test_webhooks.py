"""POST /api/webhooks/stripe with Stripe's events as the fake server signs them."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest

from booking_adapters.stripe import SignedWebhook, StripeGateway, objects
from booking_adapters.stripe.signing import signature_headers
from booking_adapters.testing import FakeStripe
from booking_core import BookingStatus, InvalidPaymentEvent, Money
from tests.unit.payments.world import PRICE, WEBHOOK_SECRET, PaymentWorld

pytestmark = pytest.mark.anyio


async def _deliver(world: PaymentWorld, fake: FakeStripe, *webhooks: SignedWebhook, **how: bool) -> list[str]:
    async with world.client() as client:
        responses = await fake.deliver(client, webhooks, **how)
    assert [r.status_code for r in responses] == [200] * len(responses)
    return [r.json()["outcome"] for r in responses]


def _signed(event_type: str, data_object: objects.JsonObject) -> SignedWebhook:
    document = objects.event(
        event_id=f"evt_fake_{event_type}",
        event_type=event_type,
        created=int(time.time()),
        data_object=data_object,
    )
    payload = json.dumps(document).encode()
    return SignedWebhook(payload, signature_headers(payload, WEBHOOK_SECRET))


async def _session(world: PaymentWorld, fake: FakeStripe, slot: int = 0) -> tuple[str, str]:
    hold = await world.book(slot)
    return hold.booking.id, fake.session_of(hold.booking.id)["id"]


async def test_forged_signature_is_rejected_and_changes_nothing(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    booking_id, session_id = await _session(stripe_world, fake_stripe)
    genuine = fake_stripe.complete(session_id)
    forged = SignedWebhook(genuine.payload, signature_headers(genuine.payload, "whsec_fake_attacker"))
    tampered = SignedWebhook(genuine.payload.replace(b'"paid"', b'"unpaid"'), genuine.headers)
    unsigned = SignedWebhook(genuine.payload, {"content-type": "application/json"})

    async with stripe_world.client() as client:
        responses = await fake_stripe.deliver(client, [forged, tampered, unsigned])

    assert [r.status_code for r in responses] == [400, 400, 400]
    assert {r.json()["error"]["code"] for r in responses} == {"invalid_signature"}
    assert (await stripe_world.booking(booking_id)).status is BookingStatus.PENDING_PAYMENT


async def test_stale_signature_is_rejected(stripe_world: PaymentWorld, fake_stripe: FakeStripe) -> None:
    booking_id, session_id = await _session(stripe_world, fake_stripe)
    event_id = json.loads(fake_stripe.complete(session_id).payload)["id"]
    replayed = fake_stripe.webhook(event_id, timestamp=int(time.time()) - 600)

    async with stripe_world.client() as client:
        [response] = await fake_stripe.deliver(client, [replayed])

    assert response.status_code == 400
    assert (await stripe_world.booking(booking_id)).status is BookingStatus.PENDING_PAYMENT


async def test_duplicate_delivery_is_a_no_op(stripe_world: PaymentWorld, fake_stripe: FakeStripe) -> None:
    booking_id, session_id = await _session(stripe_world, fake_stripe)
    outcomes = await _deliver(stripe_world, fake_stripe, fake_stripe.complete(session_id), duplicate=True)
    assert outcomes == ["confirmed", "duplicate"]
    history = await stripe_world.store.history(booking_id)
    assert [e.to_status for e in history] == [BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED]


async def test_reordered_async_payment_still_confirms(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    booking_id, session_id = await _session(stripe_world, fake_stripe)
    completed = fake_stripe.complete(session_id, paid=False)
    succeeded = fake_stripe.succeed_async(session_id)

    outcomes = await _deliver(stripe_world, fake_stripe, completed, succeeded, reverse=True)

    assert outcomes == ["confirmed", "awaiting_payment"]
    assert (await stripe_world.booking(booking_id)).status is BookingStatus.CONFIRMED


async def test_expiry_after_payment_does_not_release(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    booking_id, session_id = await _session(stripe_world, fake_stripe)
    completed = fake_stripe.complete(session_id, paid=False)
    failed = fake_stripe.fail_async(session_id)
    assert await _deliver(stripe_world, fake_stripe, completed, failed) == ["awaiting_payment", "released"]
    assert (await stripe_world.booking(booking_id)).status is BookingStatus.EXPIRED


async def test_late_payment_with_the_slot_still_free_confirms(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    booking_id, session_id = await _session(stripe_world, fake_stripe)
    stripe_world.clock.advance(timedelta(minutes=31))
    await stripe_world.service.release_lapsed_holds()  # the hold lapses; the client pays just after
    assert (await stripe_world.booking(booking_id)).status is BookingStatus.EXPIRED
    fake_stripe.sessions[session_id]["status"] = "open"  # Stripe's session outlives our hold by a minute

    assert await _deliver(stripe_world, fake_stripe, fake_stripe.complete(session_id)) == ["confirmed"]
    assert (await stripe_world.booking(booking_id)).status is BookingStatus.CONFIRMED


async def test_late_payment_for_a_taken_slot_is_refunded(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    booking_id, session_id = await _session(stripe_world, fake_stripe)
    stripe_world.clock.advance(timedelta(minutes=31))
    await stripe_world.book(0, email="second@example.com")  # someone else takes the lapsed slot

    assert await _deliver(stripe_world, fake_stripe, fake_stripe.complete(session_id)) == ["refund_requested"]

    booking = await stripe_world.booking(booking_id)
    [refund] = fake_stripe.refunds.values()
    assert booking.status is BookingStatus.REFUNDED
    assert (booking.refund_id, refund["amount"]) == (refund["id"], PRICE.amount)


async def test_amount_mismatch_is_refunded_not_confirmed(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    booking_id, session_id = await _session(stripe_world, fake_stripe)
    underpaid = fake_stripe.complete(session_id, amount_total=100)

    assert await _deliver(stripe_world, fake_stripe, underpaid) == ["refund_requested"]

    booking = await stripe_world.booking(booking_id)
    assert booking.status is BookingStatus.REFUNDED
    assert booking.amount_refunded == Money(100, "EUR")


async def test_refund_events_are_acknowledged(stripe_world: PaymentWorld, fake_stripe: FakeStripe) -> None:
    booking_id, session_id = await _session(stripe_world, fake_stripe)
    hold_token = stripe_world.service.ids.cancel_token(booking_id)
    await _deliver(stripe_world, fake_stripe, fake_stripe.complete(session_id))
    await stripe_world.service.cancel_booking(booking_id, hold_token)  # refunds at once
    refund_events = [fake_stripe.webhook(e) for e in fake_stripe.event_ids("refund.created")]
    refund_events += [fake_stripe.webhook(e) for e in fake_stripe.event_ids("charge.refunded")]

    outcomes = await _deliver(stripe_world, fake_stripe, *refund_events)

    # The refund carries the booking id in its metadata, so refund.created names the booking and is
    # recognised as the refund already recorded; charge.refunded names no booking and is ignored.
    assert outcomes == ["duplicate", "ignored"]
    assert (await stripe_world.booking(booking_id)).refund_id == next(iter(fake_stripe.refunds))


async def test_refund_event_naming_the_booking_records_the_refund(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    booking_id, session_id = await _session(stripe_world, fake_stripe)
    await _deliver(stripe_world, fake_stripe, fake_stripe.complete(session_id))
    fake_stripe.fail_next(429)  # the refund call fails; the refund stays owed
    await stripe_world.service.cancel_booking(booking_id, stripe_world.service.ids.cancel_token(booking_id))
    owed = await stripe_world.booking(booking_id)
    assert owed.refund_owed == PRICE and owed.refund_id is None
    # e.g. refunded by hand in the Dashboard, with the booking id written into its metadata
    refund = objects.refund(
        refund_id="re_fake_dashboard",
        created=int(time.time()),
        amount=PRICE.amount,
        currency="eur",
        payment_intent=str(owed.payment_intent_id),
        metadata={"booking_id": booking_id},
    )

    outcomes = await _deliver(stripe_world, fake_stripe, _signed("refund.updated", refund))

    assert outcomes == ["refund_recorded"]
    assert (await stripe_world.booking(booking_id)).refund_id == "re_fake_dashboard"


async def test_unknown_events_are_acknowledged_and_ignored(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    customer = {"id": "cus_fake", "object": "customer"}
    webhook = _signed("customer.created", customer)
    assert await _deliver(stripe_world, fake_stripe, webhook) == ["ignored"]


async def test_signature_header_name_is_case_insensitive(local_world: PaymentWorld) -> None:
    hold = await local_world.book()
    webhook = local_world.gateway.pay(hold.booking.checkout_session_id)  # type: ignore[attr-defined]
    shouting = {key.upper(): value for key, value in webhook.headers.items()}
    event = local_world.gateway.verify_webhook(webhook.payload, shouting)
    assert (event.booking_id, event.paid) == (hold.booking.id, True)


def _resigned(webhook: SignedWebhook, change: object) -> SignedWebhook:
    """The same event with `change(document)` applied, signed again with the endpoint's secret (a
    sender who holds the secret, or a confused one)."""
    document = json.loads(webhook.payload)
    change(document)  # type: ignore[operator]
    payload = json.dumps(document).encode()
    return SignedWebhook(payload, signature_headers(payload, WEBHOOK_SECRET))


async def test_an_event_for_another_checkout_session_is_refused_and_logged(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    booking_id, _session_id = await _session(stripe_world, fake_stripe, 0)
    _other_booking, other_session = await _session(stripe_world, fake_stripe, 1)
    paid_elsewhere = fake_stripe.complete(other_session)  # paid, for the other booking's session

    def name_the_first_booking(document: dict[str, Any]) -> None:
        document["data"]["object"]["client_reference_id"] = booking_id
        document["data"]["object"]["metadata"] = {"booking_id": booking_id}

    with caplog.at_level("INFO"):
        outcomes = await _deliver(
            stripe_world, fake_stripe, _resigned(paid_elsewhere, name_the_first_booking)
        )

    assert outcomes == ["refused"]
    assert (await stripe_world.booking(booking_id)).status is BookingStatus.PENDING_PAYMENT
    assert f"refused for booking {booking_id}" in caplog.text
    assert "client@example.com" not in caplog.text


async def test_a_paid_session_without_amount_total_is_refused(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    booking_id, session_id = await _session(stripe_world, fake_stripe)
    completed = fake_stripe.complete(session_id)

    def drop_the_amount(document: dict[str, Any]) -> None:
        del document["data"]["object"]["amount_total"]

    outcomes = await _deliver(stripe_world, fake_stripe, _resigned(completed, drop_the_amount))

    assert outcomes == ["refused"]
    assert (await stripe_world.booking(booking_id)).status is BookingStatus.PENDING_PAYMENT
    assert await _deliver(stripe_world, fake_stripe, completed) == ["confirmed"]  # the genuine one


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b"{}", "an empty object"),
        (b"[1, 2]", "a list"),
        (b'{"id": "evt_1", "type": "checkout.session.completed", "data": "x"}', "no data.object"),
    ],
)
async def test_a_signed_body_that_is_not_an_event_is_invalid_event(
    stripe_world: PaymentWorld, body: bytes, what: str
) -> None:
    async with stripe_world.client() as client:
        response = await client.post(
            "/api/webhooks/stripe", content=body, headers=signature_headers(body, WEBHOOK_SECRET)
        )
    assert response.status_code == 400, what
    assert response.json()["error"]["code"] == "invalid_event"


async def test_an_event_of_the_other_mode_is_refused(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    booking_id, session_id = await _session(stripe_world, fake_stripe)  # a sk_test_ key
    live = _resigned(fake_stripe.complete(session_id), lambda document: document.update(livemode=True))

    async with stripe_world.client() as client:
        response = await client.post("/api/webhooks/stripe", content=live.payload, headers=live.headers)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_event"
    assert (await stripe_world.booking(booking_id)).status is BookingStatus.PENDING_PAYMENT


def test_a_live_key_refuses_test_events() -> None:
    document = objects.event(
        event_id="evt_test_mode",
        event_type="checkout.session.expired",
        created=int(time.time()),
        data_object={"id": "cs_test_1", "status": "expired"},
    )
    payload = json.dumps(document).encode()
    live = StripeGateway("sk_live_fake_mode_check", WEBHOOK_SECRET, "https://booking.test")
    with pytest.raises(InvalidPaymentEvent):
        live.verify_webhook(payload, signature_headers(payload, WEBHOOK_SECRET))
