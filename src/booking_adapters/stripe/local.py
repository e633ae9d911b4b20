"""LocalTestGateway: checkout without a Stripe account, for the embedded default and demos.

Sessions live in this process's memory, so it serves one process only (the embedded default). Its
checkout URL is the service's own "Test payment: no money moves" page; pressing Pay builds the
Stripe-shaped `checkout.session.completed` event, signs it like Stripe, and the page handler sends it
through the same verification and apply path as the real webhook.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping

from attrs import define, field, frozen

from booking_adapters.stripe import events, objects, return_urls
from booking_adapters.stripe.signing import signature_headers
from booking_core import (
    CheckoutRequest,
    CheckoutSession,
    IllegalTransition,
    Money,
    NotFound,
    PaymentEvent,
    PaymentProviderError,
    Refund,
)


@frozen
class SignedWebhook:
    """A webhook request body and the headers that make it verifiable."""

    payload: bytes
    headers: dict[str, str]


@define
class LocalCheckout:
    id: str
    request: CheckoutRequest
    created: int
    status: str = "open"  # open | complete | expired, as Stripe says
    payment_intent_id: str | None = None
    completed_event: bytes | None = None  # what Pay sent; a second Pay re-sends it (a duplicate)
    refunded: int = 0


def _local_id(prefix: str) -> str:
    return f"{prefix}_test_local_{secrets.token_urlsafe(18)}"


@define
class LocalTestGateway:
    webhook_secret: str = field(repr=False)
    public_base_url: str
    _sessions: dict[str, LocalCheckout] = field(factory=dict)
    _refunds: dict[str, Refund] = field(factory=dict)  # by idempotency key

    # -- the port --------------------------------------------------------------------------------

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        for session in self._sessions.values():
            if session.request.idempotency_key == request.idempotency_key:
                if session.request != request:
                    raise PaymentProviderError(
                        "The payment could not be processed. Please try again later.", retryable=False
                    )
                return self._checkout_session(session)
        session = LocalCheckout(_local_id("cs"), request, int(time.time()))
        self._sessions[session.id] = session
        return self._checkout_session(session)

    async def expire_checkout(self, session_id: str) -> PaymentEvent:
        session = self._sessions.get(session_id)
        if session is not None and session.status == "open":
            session.status = "expired"
        return await self.checkout_status(session_id)

    async def refund(
        self, payment_intent_id: str, amount: Money, idempotency_key: str, booking_id: str
    ) -> Refund:
        if idempotency_key in self._refunds:
            return self._refunds[idempotency_key]
        paid = next((s for s in self._sessions.values() if s.payment_intent_id == payment_intent_id), None)
        if paid is None or amount.currency != paid.request.amount.currency:
            raise PaymentProviderError("There is no such payment to refund.", retryable=False)
        if paid.refunded + amount.amount > paid.request.amount.amount:
            raise PaymentProviderError(
                "The refund is larger than what is left of the payment.", retryable=False
            )
        paid.refunded += amount.amount
        refund = self._refunds[idempotency_key] = Refund(_local_id("re"), amount)
        return refund

    async def checkout_status(self, session_id: str) -> PaymentEvent:
        session = self._sessions.get(session_id)
        if session is None:  # forgotten by a restart: its page is gone, so it can never be paid
            return events.session_status({"id": session_id, "status": "expired", "payment_status": "unpaid"})
        return events.session_status(self._session_object(session))

    def verify_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        return events.verify_webhook(payload, headers, self.webhook_secret, livemode=False)  # test mode

    # -- the test-payment page ---------------------------------------------------------------------

    def checkout(self, session_id: str) -> LocalCheckout:
        return self._session(session_id)

    def pay(self, session_id: str) -> SignedWebhook:
        """The visitor pressed Pay: complete the session and return the signed completion event."""
        session = self._session(session_id)
        if session.status == "expired":
            raise IllegalTransition("This payment page has expired; please book again.")
        if session.completed_event is None:
            session.status, session.payment_intent_id = "complete", _local_id("pi")
            document = objects.event(
                event_id=_local_id("evt"),
                event_type="checkout.session.completed",
                created=int(time.time()),
                data_object=self._session_object(session),
            )
            session.completed_event = json.dumps(document).encode()
        return SignedWebhook(
            session.completed_event, signature_headers(session.completed_event, self.webhook_secret)
        )

    def success_url(self, session_id: str) -> str:
        return return_urls.success_url(
            self.public_base_url, self._session(session_id).request.booking_id, session_id
        )

    def cancel_url(self, session_id: str) -> str:
        return return_urls.cancel_url(self.public_base_url, self._session(session_id).request.booking_id)

    # -- inside ----------------------------------------------------------------------------------

    def _session(self, session_id: str) -> LocalCheckout:
        session = self._sessions.get(session_id)
        if session is None:
            raise NotFound("There is no such test payment.")
        return session

    def _checkout_session(self, session: LocalCheckout) -> CheckoutSession:
        return CheckoutSession(session.id, f"{self.public_base_url.rstrip('/')}/test-payments/{session.id}")

    def _session_object(self, session: LocalCheckout) -> objects.JsonObject:
        request = session.request
        booking_id = request.booking_id
        return objects.checkout_session(
            session_id=session.id,
            created=session.created,
            expires_at=int(request.expires_at.timestamp()),
            url=self._checkout_session(session).url,
            amount_total=request.amount.amount,
            currency=request.amount.currency,
            client_reference_id=booking_id,
            customer_email=request.customer_email,
            metadata={"booking_id": booking_id},
            success_url=return_urls.success_url(self.public_base_url, booking_id),
            cancel_url=return_urls.cancel_url(self.public_base_url, booking_id),
            status=session.status,
            payment_status="paid" if session.payment_intent_id else "unpaid",
            payment_intent=session.payment_intent_id,
        )
