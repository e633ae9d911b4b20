"""The local test-payment page: Pay confirms through the webhook path, Cancel goes back."""

from __future__ import annotations

import pytest

from booking_adapters.stripe import LocalTestGateway
from booking_core import BookingStatus
from tests.unit.payments.world import PUBLIC_BASE_URL, PaymentWorld

pytestmark = pytest.mark.anyio


async def test_page_says_no_money_moves_and_shows_what_is_paid(local_world: PaymentWorld) -> None:
    hold = await local_world.book()
    assert hold.booking.checkout_url is not None
    async with local_world.client() as client:
        page = await client.get(hold.booking.checkout_url)
    assert page.status_code == 200
    assert "Test payment: no money moves" in page.text
    assert "90.00 EUR" in page.text
    assert "Ann Tutor" in page.text
    assert f'action="{hold.booking.checkout_url}/pay"' in page.text


async def test_pay_confirms_and_returns_to_the_success_page(local_world: PaymentWorld) -> None:
    hold = await local_world.book()
    async with local_world.client() as client:
        paid = await client.post(f"{hold.booking.checkout_url}/pay")
        again = await client.post(f"{hold.booking.checkout_url}/pay")  # a double click
    booking, session = hold.booking.id, hold.booking.checkout_session_id
    success = f"{PUBLIC_BASE_URL}/booking/success?booking={booking}&session_id={session}"
    assert (paid.status_code, paid.headers["location"]) == (303, success)
    assert again.status_code == 303
    booking = await local_world.booking(hold.booking.id)
    assert booking.status is BookingStatus.CONFIRMED
    assert len(await local_world.store.history(hold.booking.id)) == 2


async def test_cancel_returns_and_keeps_the_hold(local_world: PaymentWorld) -> None:
    hold = await local_world.book()
    async with local_world.client() as client:
        cancelled = await client.post(f"{hold.booking.checkout_url}/cancel")
    assert cancelled.status_code == 303
    assert cancelled.headers["location"] == f"{PUBLIC_BASE_URL}/booking/cancelled?booking={hold.booking.id}"
    assert (await local_world.booking(hold.booking.id)).status is BookingStatus.PENDING_PAYMENT


async def test_an_expired_test_checkout_cannot_be_paid(local_world: PaymentWorld) -> None:
    hold = await local_world.book()
    await local_world.service.cancel_booking(
        hold.booking.id, local_world.service.ids.cancel_token(hold.booking.id)
    )
    async with local_world.client() as client:
        page = await client.get(str(hold.booking.checkout_url))
        paid = await client.post(f"{hold.booking.checkout_url}/pay")
    assert "expired" in page.text
    assert paid.status_code == 409
    assert (await local_world.booking(hold.booking.id)).status is BookingStatus.CANCELLED


async def test_pages_are_off_with_real_stripe_and_for_unknown_sessions(
    stripe_world: PaymentWorld, local_world: PaymentWorld
) -> None:
    async with stripe_world.client() as client:
        real = await client.get("/test-payments/cs_test_local_anything")
    async with local_world.client() as client:
        unknown = await client.get("/test-payments/cs_test_local_unknown")
    assert (real.status_code, unknown.status_code) == (404, 404)


async def test_the_return_confirms_when_the_pay_page_webhook_was_lost(local_world: PaymentWorld) -> None:
    hold = await local_world.book()
    session = str(hold.booking.checkout_session_id)
    assert isinstance(local_world.gateway, LocalTestGateway)
    local_world.gateway.pay(session)  # the signed event is built, never delivered

    back = await local_world.service.check_checkout(hold.booking, session)

    assert back.status is BookingStatus.CONFIRMED


async def test_a_checkout_forgotten_by_a_restart_counts_as_expired(local_world: PaymentWorld) -> None:
    forgotten = await LocalTestGateway("whsec_other", PUBLIC_BASE_URL).expire_checkout("cs_test_local_gone")
    assert forgotten.closed_unpaid
