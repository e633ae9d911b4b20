"""The PaymentGateway contract, run against every gateway (subclass it to check your own)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from booking_core import (
    CheckoutRequest,
    InvalidSignature,
    Money,
    PaymentEventKind,
    PaymentProviderError,
)
from tests.contract.payment_fixtures import GATEWAYS, GatewayRig

pytestmark = pytest.mark.anyio

PRICE = Money(4500, "USD")


@pytest.fixture(params=sorted(GATEWAYS))
def payments(request: pytest.FixtureRequest) -> Iterator[GatewayRig]:
    yield from GATEWAYS[request.param]()


def _request(booking_id: str = "bk-contract-1") -> CheckoutRequest:
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=45)
    return CheckoutRequest(
        booking_id, "Sam Lee, Tue 09:00", PRICE, "client@example.com", expires_at, f"checkout-{booking_id}"
    )


class PaymentGatewayContract:
    async def test_checkout_is_idempotent_by_key(self, payments: GatewayRig) -> None:
        request = _request()
        first = await payments.gateway.start_checkout(request)
        again = await payments.gateway.start_checkout(request)
        other = await payments.gateway.start_checkout(_request("bk-contract-2"))
        assert first == again
        assert other.id != first.id
        assert first.url.startswith("http")

    async def test_an_open_checkout_is_neither_paid_nor_over(self, payments: GatewayRig) -> None:
        session = await payments.gateway.start_checkout(_request())
        status = await payments.gateway.checkout_status(session.id)
        assert (status.kind, status.paid, status.booking_id) == (
            PaymentEventKind.OTHER,
            False,
            "bk-contract-1",
        )

    async def test_payment_arrives_as_a_verified_event_and_as_status(self, payments: GatewayRig) -> None:
        session = await payments.gateway.start_checkout(_request())
        webhook = payments.pay(session.id)

        event = payments.gateway.verify_webhook(webhook.payload, webhook.headers)
        status = await payments.gateway.checkout_status(session.id)

        for seen in (event, status):
            assert seen.kind is PaymentEventKind.CHECKOUT_COMPLETED
            assert (seen.paid, seen.amount, seen.booking_id) == (True, PRICE, "bk-contract-1")
            assert seen.checkout_session_id == session.id
        assert event.payment_intent_id == status.payment_intent_id is not None
        assert event.id != status.id

    async def test_tampered_webhooks_are_rejected(self, payments: GatewayRig) -> None:
        session = await payments.gateway.start_checkout(_request())
        webhook = payments.pay(session.id)
        tampered = webhook.payload.replace(str(PRICE.amount).encode(), b"1", 1)  # the amount paid, lowered
        assert tampered != webhook.payload
        with pytest.raises(InvalidSignature):
            payments.gateway.verify_webhook(tampered, webhook.headers)

    async def test_expiring_closes_once_and_then_is_harmless(self, payments: GatewayRig) -> None:
        session = await payments.gateway.start_checkout(_request())
        first = await payments.gateway.expire_checkout(session.id)
        again = await payments.gateway.expire_checkout(session.id)
        assert (await payments.gateway.checkout_status(session.id)).kind is PaymentEventKind.CHECKOUT_EXPIRED
        for state in (first, again):  # the provider's word: closed, never paid
            assert (state.kind, state.paid, state.closed_unpaid) == (
                PaymentEventKind.CHECKOUT_EXPIRED,
                False,
                True,
            )

    async def test_expiring_a_paid_checkout_leaves_it_paid(self, payments: GatewayRig) -> None:
        session = await payments.gateway.start_checkout(_request())
        payments.pay(session.id)
        state = await payments.gateway.expire_checkout(session.id)
        assert (await payments.gateway.checkout_status(session.id)).paid
        # refused because the client paid first: said, not swallowed, so the payment is applied
        assert (state.kind, state.paid, state.amount) == (PaymentEventKind.CHECKOUT_COMPLETED, True, PRICE)
        assert (state.booking_id, state.checkout_session_id) == ("bk-contract-1", session.id)

    async def test_refunds_are_idempotent_by_key_and_bounded_by_the_payment(
        self, payments: GatewayRig
    ) -> None:
        session = await payments.gateway.start_checkout(_request())
        payments.pay(session.id)
        intent = (await payments.gateway.checkout_status(session.id)).payment_intent_id
        assert intent is not None

        half = Money(2250, "USD")
        refund = await payments.gateway.refund(intent, half, "refund-bk-contract-1", "bk-contract-1")
        again = await payments.gateway.refund(intent, half, "refund-bk-contract-1", "bk-contract-1")

        assert refund == again
        assert refund.amount == half
        with pytest.raises(PaymentProviderError):
            await payments.gateway.refund(intent, PRICE, "refund-bk-contract-1-more", "bk-contract-1")


class TestPaymentGateway(PaymentGatewayContract):
    """Runs the contract over `payments`, one parameter per gateway."""
