"""The whole payment path with the real SDK against the fake Stripe server."""

from __future__ import annotations

import pytest

from booking_adapters.testing import FakeStripe
from booking_core import BookingStatus, Money, PaymentProviderError
from tests.unit.payments.world import PRICE, PaymentWorld

pytestmark = pytest.mark.anyio


async def test_request_checkout_webhook_confirms(stripe_world: PaymentWorld, fake_stripe: FakeStripe) -> None:
    hold = await stripe_world.book()
    session = fake_stripe.session_of(hold.booking.id)
    assert hold.booking.checkout_url == session["url"]
    assert (session["amount_total"], session["currency"]) == (PRICE.amount, "eur")

    async with stripe_world.client() as client:
        [response] = await fake_stripe.deliver(client, [fake_stripe.complete(session["id"])])

    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "confirmed"}
    booking = await stripe_world.booking(hold.booking.id)
    assert booking.status is BookingStatus.CONFIRMED
    assert booking.amount_paid == PRICE
    assert booking.payment_intent_id == fake_stripe.sessions[session["id"]]["payment_intent"]


async def test_cancel_paid_booking_refunds_on_stripe(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    hold = await stripe_world.book()
    session_id = fake_stripe.session_of(hold.booking.id)["id"]
    paid = fake_stripe.complete(session_id)
    await stripe_world.service.apply_payment_event(
        stripe_world.gateway.verify_webhook(paid.payload, paid.headers)
    )

    cancelled = await stripe_world.service.cancel_booking(hold.booking.id, hold.cancel_token)

    [refund] = fake_stripe.refunds.values()
    assert cancelled.status is BookingStatus.CANCELLED
    assert (refund["amount"], refund["payment_intent"]) == (PRICE.amount, cancelled.payment_intent_id)
    assert cancelled.refund_id == refund["id"]
    assert cancelled.amount_refunded == Money(PRICE.amount, "EUR")


async def test_cancel_unpaid_booking_expires_its_checkout(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    hold = await stripe_world.book()
    await stripe_world.service.cancel_booking(hold.booking.id, hold.cancel_token)
    assert fake_stripe.session_of(hold.booking.id)["status"] == "expired"


def _product_names(fake_stripe: FakeStripe) -> list[str]:
    created = [r for r in fake_stripe.requests if r.method == "POST" and r.path == "/v1/checkout/sessions"]
    return [r.params["line_items"][0]["price_data"]["product_data"]["name"] for r in created]


async def test_a_moved_hold_gets_a_new_session_and_the_old_one_expires(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    hold = await stripe_world.book()
    old = fake_stripe.session_of(hold.booking.id)["id"]
    moved = await stripe_world.service.reschedule_booking(
        hold.booking.id, hold.cancel_token, stripe_world.slots[1].start
    )
    assert moved.checkout_session_id not in (None, old) and moved.replaced_checkouts == (old,)
    new = fake_stripe.sessions[str(moved.checkout_session_id)]
    assert (new["status"], new["url"]) == ("open", moved.checkout_url)
    assert fake_stripe.sessions[old]["status"] == "expired"
    first, second = _product_names(fake_stripe)
    assert (
        first != second and second.endswith(f"{stripe_world.slots[1].start:%H:%M} (Europe/Berlin)") is False
    )
    expiry_keys = [r.idempotency_key for r in fake_stripe.requests if r.path.endswith("/expire")]
    assert expiry_keys == [f"expire-{old}"]

    async with stripe_world.client() as client:  # everything Stripe sends, in order
        webhooks = [fake_stripe.webhook(event_id) for event_id in fake_stripe.events]
        webhooks.append(fake_stripe.complete(new["id"]))
        answers = await fake_stripe.deliver(client, webhooks)
    assert [a.json()["outcome"] for a in answers] == ["ignored", "confirmed"]
    booking = await stripe_world.booking(hold.booking.id)
    assert (booking.status, booking.slot) == (BookingStatus.CONFIRMED, stripe_world.slots[1])


async def test_a_hold_paid_on_its_old_page_just_before_the_move_is_confirmed_at_the_new_time(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    hold = await stripe_world.book()
    old = fake_stripe.session_of(hold.booking.id)["id"]
    paid_webhook = fake_stripe.complete(old)  # Stripe then refuses to expire it
    moved = await stripe_world.service.reschedule_booking(
        hold.booking.id, hold.cancel_token, stripe_world.slots[1].start
    )
    assert (moved.status, moved.slot, moved.amount_paid) == (
        BookingStatus.CONFIRMED,
        stripe_world.slots[1],
        PRICE,
    )
    assert moved.payment_intent_id == fake_stripe.sessions[old]["payment_intent"]
    assert fake_stripe.sessions[str(moved.checkout_session_id)]["status"] == "expired"  # the new one
    async with stripe_world.client() as client:
        [late] = await fake_stripe.deliver(client, [paid_webhook])
    assert late.json()["outcome"] == "duplicate" and fake_stripe.refunds == {}


async def test_with_stripe_down_a_hold_is_not_moved(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    hold = await stripe_world.book()
    fake_stripe.fail_next(500, times=3)  # the call and the SDK's two retries
    with pytest.raises(PaymentProviderError):
        await stripe_world.service.reschedule_booking(
            hold.booking.id, hold.cancel_token, stripe_world.slots[1].start
        )
    assert await stripe_world.booking(hold.booking.id) == hold.booking
    assert [s["status"] for s in fake_stripe.sessions.values()] == ["open"]
