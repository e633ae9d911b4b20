"""The whole payment path with the real SDK against the fake Stripe server."""

from __future__ import annotations

import pytest

from booking_adapters.testing import FakeStripe
from booking_core import BookingStatus, Money
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
