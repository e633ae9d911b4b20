"""Reconciliation asks Stripe about holds past their expiry: lost webhooks lose nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking_adapters.testing import FakeStripe
from booking_core import BookingStatus, ReconcileReport
from tests.unit.payments.world import PRICE, PaymentWorld

pytestmark = pytest.mark.anyio


async def test_a_payment_whose_webhook_was_lost_is_confirmed(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    paid = await stripe_world.book(0)
    abandoned = await stripe_world.book(1)
    fake_stripe.complete(str(paid.booking.checkout_session_id))  # its webhook never arrives
    stripe_world.clock.advance(timedelta(minutes=31))

    report = await stripe_world.service.reconcile()

    assert report == ReconcileReport(holds_checked=2, confirmed=1, released=1, refunds_issued=0)
    confirmed = await stripe_world.booking(paid.booking.id)
    assert (confirmed.status, confirmed.amount_paid) == (BookingStatus.CONFIRMED, PRICE)
    assert (await stripe_world.booking(abandoned.booking.id)).status is BookingStatus.EXPIRED
    assert fake_stripe.sessions[str(abandoned.booking.checkout_session_id)]["status"] == "expired"


async def test_a_refund_that_failed_is_issued_by_the_next_run(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    hold = await stripe_world.book()
    fake_stripe.complete(str(hold.booking.checkout_session_id))
    stripe_world.clock.advance(timedelta(minutes=31))
    await stripe_world.service.reconcile()
    fake_stripe.fail_next(429)  # Stripe refuses the refund once
    await stripe_world.service.cancel_booking(hold.booking.id, hold.cancel_token)
    assert not fake_stripe.refunds

    report = await stripe_world.service.reconcile()

    assert report.refunds_issued == 1
    [refund] = fake_stripe.refunds.values()
    assert (await stripe_world.booking(hold.booking.id)).refund_id == refund["id"]
