"""Property: however Stripe orders or repeats the deliveries of one session's events, the booking ends
the same."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_adapters.stripe import SignedWebhook, StripeGateway
from booking_adapters.testing import FakeStripe
from booking_core import BookingStatus
from tests.unit.payments.world import PRICE, PUBLIC_BASE_URL, SECRET_KEY, WEBHOOK_SECRET, PaymentWorld

pytestmark = pytest.mark.anyio

Scenario = Callable[[FakeStripe, str], list[SignedWebhook]]

# What Stripe sends for one checkout session, per way it can end, and the status it must lead to.
SCENARIOS: dict[str, tuple[Scenario, BookingStatus]] = {
    "paid by card": (lambda f, s: [f.complete(s)], BookingStatus.CONFIRMED),
    "delayed method succeeds": (
        lambda f, s: [f.complete(s, paid=False), f.succeed_async(s)],
        BookingStatus.CONFIRMED,
    ),
    "delayed method fails": (
        lambda f, s: [f.complete(s, paid=False), f.fail_async(s)],
        BookingStatus.EXPIRED,
    ),
    "abandoned": (lambda f, s: [f.expire(s)], BookingStatus.EXPIRED),
}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(scenario=st.sampled_from(sorted(SCENARIOS)), data=st.data())
async def test_any_order_and_repetition_ends_the_same(
    scenario: str, data: st.DataObject, stripe_url: str, fake_stripe: FakeStripe
) -> None:
    world = PaymentWorld(StripeGateway(SECRET_KEY, WEBHOOK_SECRET, PUBLIC_BASE_URL, api_base=stripe_url))
    hold = await world.book()
    assert hold.booking.checkout_session_id is not None
    make_events, expected = SCENARIOS[scenario]
    events = make_events(fake_stripe, hold.booking.checkout_session_id)
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=3), label="repeats")
    deliveries = data.draw(st.permutations(events + repeats), label="deliveries")

    async with world.client() as client:
        responses = await fake_stripe.deliver(client, deliveries)

    assert {r.status_code for r in responses} == {200}
    booking = await world.booking(hold.booking.id)
    assert booking.status is expected
    assert booking.amount_paid == (PRICE if expected is BookingStatus.CONFIRMED else None)
    assert booking.refund_owed is None
