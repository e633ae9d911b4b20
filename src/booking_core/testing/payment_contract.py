"""The PaymentGateway contract (see contracts.py for how to subclass one). Fixture: `payments`, a
GatewayRig: your gateway, and a way to play the paying client (complete the checkout at the
provider, or its test double) that returns the webhook the provider then sends. Refunds are also
checked as a property: any sequence of partial refunds is taken while the total stays within the
payment, refused beyond it, and a key repeated returns its first refund."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from attrs import frozen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core.errors import InvalidSignature, PaymentProviderError
from booking_core.money import Money
from booking_core.payment import CheckoutRequest, PaymentEventKind, Refund
from booking_core.ports import PaymentGateway


class Webhook(Protocol):
    """A webhook request as the provider sends it."""

    @property
    def payload(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


@frozen
class GatewayRig:
    """A gateway under test and `pay(session_id)`: the client pays, the provider's webhook comes back."""

    gateway: PaymentGateway
    pay: Callable[[str], Webhook]


PRICE = Money(4500, "USD")
_checkouts = itertools.count()  # each example pays a checkout of its own
# Each example is up to nine calls to the provider (HTTP for a real gateway, ~0.5 s an example
# on a loaded machine): a fixed budget, whatever the hypothesis profile says.
REFUND_EXAMPLES = 25


def _request(booking_id: str = "bk-contract-1") -> CheckoutRequest:
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=45)
    return CheckoutRequest(
        booking_id, "Sam Lee, Tue 09:00", PRICE, "client@example.com", expires_at, f"checkout-{booking_id}"
    )


class PaymentGatewayContract:
    """Every behaviour of booking_core.ports.PaymentGateway. Fixture: `payments`, a GatewayRig."""

    pytestmark = pytest.mark.anyio

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

    @settings(max_examples=REFUND_EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(parts=st.lists(st.tuples(st.integers(1, PRICE.amount), st.booleans()), min_size=1, max_size=6))
    async def test_partial_refunds_are_taken_up_to_the_payment(
        self, payments: GatewayRig, parts: list[tuple[int, bool]]
    ) -> None:
        """Each (amount, repeat): refund `amount` under a new key, or repeat the previous key."""
        booking_id = f"bk-refunds-{next(_checkouts)}"
        session = await payments.gateway.start_checkout(_request(booking_id))
        payments.pay(session.id)
        intent = (await payments.gateway.checkout_status(session.id)).payment_intent_id
        assert intent is not None
        refunded, taken = 0, list[tuple[str, Refund]]()
        for number, (amount, repeat) in enumerate(parts):
            if repeat and taken:
                key, first = taken[-1]
                assert await payments.gateway.refund(intent, first.amount, key, booking_id) == first
                continue
            key = f"refund-{booking_id}-{number}"
            if refunded + amount > PRICE.amount:
                with pytest.raises(PaymentProviderError):
                    await payments.gateway.refund(intent, Money(amount, PRICE.currency), key, booking_id)
                continue
            refund = await payments.gateway.refund(intent, Money(amount, PRICE.currency), key, booking_id)
            assert refund.amount == Money(amount, PRICE.currency)
            refunded += amount
            taken.append((key, refund))
