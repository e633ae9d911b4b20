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
@given(
    scenario=st.sampled_from(sorted(SCENARIOS)),
    repeats=st.lists(st.integers(0, 1), max_size=3),
    # Everything is drawn up front (drawing after an await upsets hypothesis under anyio); the
    # unique keys order the deliveries, i.e. they pick one permutation.
    order=st.lists(st.integers(), min_size=5, max_size=5, unique=True),
)
async def test_any_order_and_repetition_ends_the_same(
    scenario: str, repeats: list[int], order: list[int], stripe_url: str, fake_stripe: FakeStripe
) -> None:
    world = PaymentWorld(StripeGateway(SECRET_KEY, WEBHOOK_SECRET, PUBLIC_BASE_URL, api_base=stripe_url))
    hold = await world.book()
    assert hold.booking.checkout_session_id is not None
    make_events, expected = SCENARIOS[scenario]
    events = make_events(fake_stripe, hold.booking.checkout_session_id)
    sent = events + [events[i % len(events)] for i in repeats]
    deliveries = [webhook for _, webhook in sorted(zip(order, sent, strict=False), key=lambda pair: pair[0])]

    async with world.client() as client:
        responses = await fake_stripe.deliver(client, deliveries)

    assert {r.status_code for r in responses} == {200}
    booking = await world.booking(hold.booking.id)
    assert booking.status is expected
    assert booking.amount_paid == (PRICE if expected is BookingStatus.CONFIRMED else None)
    assert booking.refund_owed is None
