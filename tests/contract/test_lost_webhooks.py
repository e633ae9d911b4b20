"""Lost webhooks lose nothing as long as reconciliation runs: a paid Checkout Session whose
`checkout.session.completed` never arrives ends confirmed or refunded, over every store (memory,
SQLite, PostgreSQL) and the real SDK talking to the fake Stripe, whichever order things happen in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from attrs import define

from booking_adapters.stripe import StripeGateway
from booking_adapters.testing import FakeStripe, running
from booking_core import BookingHold, BookingStatus, PaymentEvent
from tests.unit.payments.world import PRICE, PUBLIC_BASE_URL, SECRET_KEY, WEBHOOK_SECRET, PaymentWorld

pytestmark = pytest.mark.anyio

HOLD_LAPSED = timedelta(minutes=31)


@pytest.fixture
def fake_stripe() -> Iterator[tuple[FakeStripe, str]]:
    fake = FakeStripe(webhook_secret=WEBHOOK_SECRET)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    with running(fake) as url:
        yield fake, url


@define
class PaysWhileExpiring:
    """Stripe as reconciliation meets it when the client presses Pay a moment before the expire
    call arrives: the session reconciliation meant to close is complete by then."""

    gateway: StripeGateway
    fake: FakeStripe

    def __getattr__(self, name: str) -> Any:
        return getattr(self.gateway, name)

    async def expire_checkout(self, session_id: str) -> PaymentEvent:
        if self.fake.sessions[session_id]["status"] == "open":
            self.fake.complete(session_id)  # its webhook is lost
        return await self.gateway.expire_checkout(session_id)


def _world(store: Any, fake_stripe: tuple[FakeStripe, str], *, racing: bool = False) -> PaymentWorld:
    fake, url = fake_stripe
    gateway = StripeGateway(SECRET_KEY, WEBHOOK_SECRET, PUBLIC_BASE_URL, api_base=url)
    return PaymentWorld(PaysWhileExpiring(gateway, fake) if racing else gateway, store=store)  # type: ignore[arg-type]


@pytest.fixture
def fake(fake_stripe: tuple[FakeStripe, str]) -> FakeStripe:
    return fake_stripe[0]


@pytest.fixture
def world(store: Any, fake_stripe: tuple[FakeStripe, str]) -> PaymentWorld:
    return _world(store, fake_stripe)


async def _paid_unheard(world: PaymentWorld, fake: FakeStripe) -> BookingHold:
    """A hold whose client paid; the webhook never arrives, and the hold lapses."""
    hold = await world.book(0)
    fake.complete(str(hold.booking.checkout_session_id))
    world.clock.advance(HOLD_LAPSED)
    return hold


def _refunds_of(fake: FakeStripe, booking_id: str) -> list[int]:
    intent = fake.session_of(booking_id)["payment_intent"]
    return [r["amount"] for r in fake.refunds.values() if r["payment_intent"] == intent]


async def test_paid_then_released_by_a_new_booking_in_its_slot_is_refunded(
    world: PaymentWorld, fake: FakeStripe, store: Any
) -> None:
    paid = await _paid_unheard(world, fake)
    taker = await world.book(0, email="second@example.com")  # releases the lapsed hold in its way

    released = await world.booking(paid.booking.id)
    assert (released.status, released.payment_check_due) == (BookingStatus.EXPIRED, True)
    assert [b.id for b in await store.payment_checks_due()] == [paid.booking.id]

    await world.service.reconcile()

    refunded = await world.booking(paid.booking.id)
    assert refunded.status is BookingStatus.REFUNDED
    assert (refunded.amount_paid, refunded.amount_refunded) == (PRICE, PRICE)
    assert not refunded.payment_check_due
    assert _refunds_of(fake, paid.booking.id) == [PRICE.amount]
    assert (await world.booking(taker.booking.id)).status is BookingStatus.PENDING_PAYMENT
    assert await store.payment_checks_due() == []
    await world.service.reconcile()  # a second run changes nothing
    assert _refunds_of(fake, paid.booking.id) == [PRICE.amount]


async def test_paid_then_released_is_confirmed_when_its_slot_is_free_again(
    world: PaymentWorld, fake: FakeStripe, store: Any
) -> None:
    paid = await _paid_unheard(world, fake)
    taker = await world.book(0, email="second@example.com")
    await world.service.cancel_booking(taker.booking.id, taker.cancel_token)

    report = await world.service.reconcile()

    confirmed = await world.booking(paid.booking.id)
    assert (confirmed.status, confirmed.amount_paid) == (BookingStatus.CONFIRMED, PRICE)
    assert not confirmed.payment_check_due
    assert (report.confirmed, report.payments_checked) == (1, 1)
    assert _refunds_of(fake, paid.booking.id) == []


async def test_paid_while_reconciliation_expires_the_session_is_confirmed(
    store: Any, fake_stripe: tuple[FakeStripe, str]
) -> None:
    fake, _ = fake_stripe
    world = _world(store, fake_stripe, racing=True)
    hold = await world.book(0)
    world.clock.advance(HOLD_LAPSED)

    report = await world.service.reconcile()

    booking = await world.booking(hold.booking.id)
    assert fake.session_of(hold.booking.id)["status"] == "complete"  # Stripe refused the expire
    assert (booking.status, booking.amount_paid) == (BookingStatus.CONFIRMED, PRICE)
    assert (report.confirmed, report.released) == (1, 0)


async def test_an_unpaid_hold_released_in_the_way_is_expired_and_cleared(
    world: PaymentWorld, fake: FakeStripe, store: Any
) -> None:
    abandoned = await world.book(0)
    world.clock.advance(HOLD_LAPSED)
    await world.book(0, email="second@example.com")

    await world.service.reconcile()

    assert fake.session_of(abandoned.booking.id)["status"] == "expired"
    released = await world.booking(abandoned.booking.id)
    assert (released.status, released.payment_check_due) == (BookingStatus.EXPIRED, False)


async def test_paid_then_cancelled_before_the_webhook_is_refunded(
    world: PaymentWorld, fake: FakeStripe, store: Any
) -> None:
    hold = await world.book(0)
    fake.complete(str(hold.booking.checkout_session_id))  # paid; the webhook is lost

    after = await world.service.cancel_booking(hold.booking.id, hold.cancel_token)

    assert after.status is BookingStatus.REFUNDED
    assert _refunds_of(fake, hold.booking.id) == [PRICE.amount]
    assert not after.payment_check_due


async def test_an_unreachable_provider_leaves_the_released_hold_to_be_checked(
    world: PaymentWorld, fake: FakeStripe, store: Any
) -> None:
    hold = await _paid_unheard(world, fake)
    fake.fail_next(500, times=3)  # Stripe fails the expire call and the SDK's two retries

    await world.service.release_lapsed_holds()

    released = await world.booking(hold.booking.id)
    assert (released.status, released.payment_check_due) == (BookingStatus.EXPIRED, True)
    await world.service.reconcile()  # Stripe is back
    assert (await world.booking(hold.booking.id)).status is BookingStatus.CONFIRMED
