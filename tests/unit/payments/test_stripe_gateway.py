"""StripeGateway through the real SDK against the fake server: what it sends, how it fails."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from booking_adapters.stripe import StripeGateway
from booking_adapters.testing import FakeStripe
from booking_core import CheckoutRequest, Money, PaymentEventKind, PaymentProviderError
from tests.unit.payments.stripe_spec import create_session_parameters
from tests.unit.payments.world import PUBLIC_BASE_URL, SECRET_KEY, WEBHOOK_SECRET

pytestmark = pytest.mark.anyio

EMAIL = "client@example.com"


def _gateway(url: str, **options: float) -> StripeGateway:
    return StripeGateway(SECRET_KEY, WEBHOOK_SECRET, PUBLIC_BASE_URL, api_base=url, **options)


def _request(expires_in: timedelta = timedelta(minutes=45), key: str = "checkout-bk1") -> CheckoutRequest:
    expires_at = datetime.now(UTC) + expires_in
    return CheckoutRequest(
        "bk1", "Ann Tutor, Mon 02 Mar 2026 09:00", Money(9000, "EUR"), EMAIL, expires_at, key
    )


async def test_checkout_carries_the_booking_everywhere(stripe_url: str, fake_stripe: FakeStripe) -> None:
    request = _request()
    session = await _gateway(stripe_url).start_checkout(request)

    [sent] = fake_stripe.requests
    params = sent.params
    assert sent.idempotency_key == "checkout-bk1"
    assert set(params) <= create_session_parameters()
    assert params["mode"] == "payment"
    assert params["line_items"] == [
        {
            "price_data": {
                "currency": "eur",
                "unit_amount": "9000",
                "product_data": {"name": "Ann Tutor, Mon 02 Mar 2026 09:00"},
            },
            "quantity": "1",
        }
    ]
    assert (params["client_reference_id"], params["customer_email"]) == ("bk1", EMAIL)
    assert params["metadata"] == params["payment_intent_data"]["metadata"] == {"booking_id": "bk1"}
    assert int(params["expires_at"]) == int(request.expires_at.timestamp())
    assert (
        params["success_url"]
        == f"{PUBLIC_BASE_URL}/booking/success?booking=bk1&session_id={{CHECKOUT_SESSION_ID}}"
    )
    assert params["cancel_url"] == f"{PUBLIC_BASE_URL}/booking/cancelled?booking=bk1"
    assert session.url == fake_stripe.sessions[session.id]["url"]


async def test_a_hold_shorter_than_stripes_minimum_is_stretched(
    stripe_url: str, fake_stripe: FakeStripe
) -> None:
    before = int(time.time())
    await _gateway(stripe_url).start_checkout(_request(expires_in=timedelta(minutes=29)))
    expires_at = int(fake_stripe.requests[0].params["expires_at"])
    assert before + 31 * 60 <= expires_at <= int(time.time()) + 31 * 60


async def test_retried_checkout_reuses_the_session(stripe_url: str, fake_stripe: FakeStripe) -> None:
    gateway = _gateway(stripe_url)
    fake_stripe.fail_next(500)  # the SDK retries with the same idempotency key
    request = _request()
    first = await gateway.start_checkout(request)
    again = await gateway.start_checkout(request)
    assert first == again
    assert len(fake_stripe.sessions) == 1
    assert {r.idempotency_key for r in fake_stripe.requests} == {"checkout-bk1"}


@pytest.mark.parametrize("status", [500, 429])
async def test_outages_are_retryable_provider_errors(
    stripe_url: str, fake_stripe: FakeStripe, status: int
) -> None:
    fake_stripe.fail_next(status, times=3)
    with pytest.raises(PaymentProviderError) as raised:
        await _gateway(stripe_url).start_checkout(_request())
    assert raised.value.retryable
    assert "try again" in raised.value.message


async def test_a_hanging_stripe_is_a_retryable_provider_error(
    stripe_url: str, fake_stripe: FakeStripe
) -> None:
    fake_stripe.hang_seconds = 2.0
    fake_stripe.hang_next(times=3)
    with pytest.raises(PaymentProviderError) as raised:
        await _gateway(stripe_url, timeout_seconds=0.3).start_checkout(_request())
    assert raised.value.retryable


async def test_rejected_requests_are_final_and_leak_nothing(
    stripe_url: str, fake_stripe: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = _gateway(stripe_url)
    await gateway.start_checkout(_request())
    with caplog.at_level(logging.DEBUG), pytest.raises(PaymentProviderError) as raised:
        await gateway.start_checkout(_request(expires_in=timedelta(hours=2)))  # same key, other params
    assert not raised.value.retryable
    assert "idempotent" not in raised.value.message  # Stripe's developer message stays out
    assert EMAIL not in caplog.text


async def test_expire_is_harmless_on_a_closed_session(stripe_url: str, fake_stripe: FakeStripe) -> None:
    gateway = _gateway(stripe_url)
    session = await gateway.start_checkout(_request())
    await gateway.expire_checkout(session.id)
    await gateway.expire_checkout(session.id)
    paid = await gateway.start_checkout(_request(key="checkout-bk2"))
    fake_stripe.complete(paid.id)
    await gateway.expire_checkout(paid.id)

    assert fake_stripe.sessions[session.id]["status"] == "expired"
    assert fake_stripe.sessions[paid.id]["status"] == "complete"
    assert fake_stripe.requests[1].idempotency_key == f"expire-{session.id}"


async def test_expire_of_an_unknown_session_is_an_error(stripe_url: str) -> None:
    with pytest.raises(PaymentProviderError) as raised:
        await _gateway(stripe_url).expire_checkout("cs_test_unknown")
    assert not raised.value.retryable


async def test_checkout_status_reads_the_session(stripe_url: str, fake_stripe: FakeStripe) -> None:
    gateway = _gateway(stripe_url)
    session = await gateway.start_checkout(_request())
    still_open = await gateway.checkout_status(session.id)
    fake_stripe.complete(session.id)
    paid = await gateway.checkout_status(session.id)

    assert (still_open.kind, still_open.paid) == (PaymentEventKind.OTHER, False)
    assert (paid.kind, paid.paid, paid.amount) == (
        PaymentEventKind.CHECKOUT_COMPLETED,
        True,
        Money(9000, "EUR"),
    )
    assert (paid.booking_id, paid.payment_intent_id) == (
        "bk1",
        fake_stripe.sessions[session.id]["payment_intent"],
    )
