"""Refunds made by hand in the Stripe Dashboard: in full they cancel a confirmed booking (the slot
comes free, everyone hears of it), in part they are recorded and the booking stands."""

from __future__ import annotations

import pytest

from booking_adapters.testing import FakeStripe
from booking_core import BookingHold, BookingStatus, Money, TimeRange, Trigger
from tests.unit.payments.world import PRICE, PaymentWorld

pytestmark = pytest.mark.anyio


async def _confirmed(world: PaymentWorld, fake: FakeStripe) -> BookingHold:
    hold = await world.book(0)
    async with world.client() as client:
        await fake.deliver(client, [fake.complete(str(hold.booking.checkout_session_id))])
    assert (await world.booking(hold.booking.id)).status is BookingStatus.CONFIRMED
    return hold


async def _offered(world: PaymentWorld, slot: TimeRange) -> bool:
    window = TimeRange(slot.start, slot.end)
    return slot in (await world.service.list_availability("ann-tutor", window)).slots


@pytest.mark.parametrize("order", ["in order", "reversed and duplicated"])
async def test_a_full_refund_in_the_dashboard_cancels_the_booking(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe, order: str
) -> None:
    hold = await _confirmed(stripe_world, fake_stripe)
    webhooks = fake_stripe.refund_in_dashboard(str(hold.booking.checkout_session_id))
    assert not await _offered(stripe_world, stripe_world.slots[0])

    async with stripe_world.client() as client:
        answers = await fake_stripe.deliver(
            client, webhooks, reverse=order != "in order", duplicate=order != "in order"
        )

    assert {a.status_code for a in answers} == {200}
    booking = await stripe_world.booking(hold.booking.id)
    assert (booking.status, booking.amount_refunded) == (BookingStatus.CANCELLED, PRICE)
    assert booking.refund_owed is None  # nothing for this service to send
    last = (await stripe_world.service.store.history(hold.booking.id))[-1]
    assert (last.trigger, last.from_status) == (Trigger.REFUNDED_OUTSIDE, BookingStatus.CONFIRMED)
    assert "refunded in full" in last.reason
    assert await _offered(stripe_world, stripe_world.slots[0])  # the slot is free again
    await stripe_world.service.reconcile()
    assert len(fake_stripe.refunds) == 1  # and nothing is refunded twice


async def test_a_partial_refund_is_recorded_and_the_booking_stands(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    hold = await _confirmed(stripe_world, fake_stripe)
    session = str(hold.booking.checkout_session_id)

    async with stripe_world.client() as client:
        first = await fake_stripe.deliver(
            client, fake_stripe.refund_in_dashboard(session, 3000), duplicate=True
        )
        partly = await stripe_world.booking(hold.booking.id)
        await fake_stripe.deliver(client, fake_stripe.refund_in_dashboard(session, 6000))

    assert {a.status_code for a in first} == {200}
    assert (partly.status, partly.amount_refunded) == (BookingStatus.CONFIRMED, Money(3000, "EUR"))
    history = await stripe_world.service.store.history(hold.booking.id)
    assert [e.trigger for e in history].count(Trigger.PARTIAL_REFUND_RECORDED) == 1
    assert (await stripe_world.booking(hold.booking.id)).status is BookingStatus.CANCELLED  # all of it now


async def test_a_refund_that_overtakes_its_payments_webhook_still_cancels(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    hold = await stripe_world.book(0)
    session = str(hold.booking.checkout_session_id)
    completed = fake_stripe.complete(session)  # its delivery fails and is retried later
    refunds = fake_stripe.refund_in_dashboard(session)

    async with stripe_world.client() as client:
        answers = await fake_stripe.deliver(client, [*refunds, completed])

    assert [a.json()["outcome"] for a in answers][-1] in ("ignored", "duplicate")
    booking = await stripe_world.booking(hold.booking.id)
    assert (booking.status, booking.amount_paid, booking.amount_refunded) == (
        BookingStatus.CANCELLED,
        PRICE,
        PRICE,
    )


async def test_cancelling_after_a_partial_refund_returns_only_the_rest(
    stripe_world: PaymentWorld, fake_stripe: FakeStripe
) -> None:
    hold = await _confirmed(stripe_world, fake_stripe)
    async with stripe_world.client() as client:
        await fake_stripe.deliver(
            client, fake_stripe.refund_in_dashboard(str(hold.booking.checkout_session_id), 3000)
        )

    cancelled = await stripe_world.service.cancel_booking(hold.booking.id, hold.cancel_token)

    assert (cancelled.status, cancelled.refund_owed, cancelled.amount_refunded) == (
        BookingStatus.CANCELLED,
        Money(6000, "EUR"),
        PRICE,
    )
    assert cancelled.refund_id is not None
    assert sorted(r["amount"] for r in fake_stripe.refunds.values()) == [3000, 6000]
