"""StripeGateway: the PaymentGateway port on Stripe Checkout, through the official SDK's async calls."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import stripe

from booking_adapters.stripe import events, return_urls
from booking_core import (
    CheckoutRequest,
    CheckoutSession,
    Money,
    PaymentEvent,
    PaymentProviderError,
    Refund,
)

log = logging.getLogger(__name__)

# Stripe accepts expires_at from 30 minutes to 24 hours after creation, measured on its clock: keep a
# minute of slack on both ends. A hold shorter than the session just means a late payment, which the
# core re-confirms or refunds.
_MIN_EXPIRY = timedelta(minutes=31)
_MAX_EXPIRY = timedelta(hours=24) - timedelta(minutes=1)


class StripeGateway:
    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        public_base_url: str,
        api_base: str | None = None,
        *,
        timeout_seconds: float = 30.0,
    ) -> None:
        self._webhook_secret = webhook_secret
        # Stripe's keys say their mode; events of the other mode are refused (events.verify_webhook)
        self._livemode = secret_key.startswith(("sk_live_", "rk_live_"))
        self._public_base_url = public_base_url.rstrip("/")
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=2,  # the SDK retries with backoff and the same idempotency key
            http_client=stripe.HTTPXClient(timeout=timeout_seconds),
        )

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        booking = {"booking_id": request.booking_id}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": request.amount.currency.lower(),
                        "unit_amount": request.amount.amount,
                        "product_data": {"name": request.product_name},
                    },
                    "quantity": 1,
                }
            ],
            "customer_email": request.customer_email,
            "client_reference_id": request.booking_id,
            "metadata": booking,
            "payment_intent_data": {"metadata": booking},
            "expires_at": _stripe_expiry(request.expires_at),
            "success_url": return_urls.success_url(self._public_base_url, request.booking_id),
            "cancel_url": return_urls.cancel_url(self._public_base_url, request.booking_id),
        }
        try:
            # The raw call: the SDK's encoding, retries and errors, without building a StripeObject
            # of the whole session for the two fields needed (~0.5 ms of CPU a booking, measured).
            response = await self._client.raw_request_async(
                "post", "/v1/checkout/sessions", **params, idempotency_key=request.idempotency_key
            )
        except stripe.StripeError as error:
            _raise_provider_error(error, "start checkout")
        session = response.data
        if not session.get("url"):
            raise PaymentProviderError(
                "The payment page could not be opened. Please try again.", retryable=False
            )
        return CheckoutSession(str(session["id"]), str(session["url"]))

    async def expire_checkout(self, session_id: str) -> PaymentEvent:
        try:
            session = await self._client.v1.checkout.sessions.expire_async(
                session_id, options={"idempotency_key": f"expire-{session_id}"}
            )
        except stripe.InvalidRequestError as error:
            # Stripe refuses to expire a session that is no longer open (and replays that refusal
            # for the same key): what it is now, complete and perhaps paid, is the answer.
            current = await self._retrieve(session_id)
            if current.get("status") != "open":
                return events.session_status(current)
            _raise_provider_error(error, "expire checkout")
        except stripe.StripeError as error:
            _raise_provider_error(error, "expire checkout")
        return events.session_status(session.to_dict())

    async def refund(
        self, payment_intent_id: str, amount: Money, idempotency_key: str, booking_id: str
    ) -> Refund:
        try:
            refund = await self._client.v1.refunds.create_async(
                params={
                    "payment_intent": payment_intent_id,
                    "amount": amount.amount,
                    "metadata": {"booking_id": booking_id},  # so refund.* events name the booking
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            _raise_provider_error(error, "refund")
        return Refund(refund.id, Money(refund.amount, refund.currency))

    async def checkout_status(self, session_id: str) -> PaymentEvent:
        return events.session_status(await self._retrieve(session_id))

    def verify_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        return events.verify_webhook(payload, headers, self._webhook_secret, livemode=self._livemode)

    async def _retrieve(self, session_id: str) -> dict[str, Any]:
        try:
            session = await self._client.v1.checkout.sessions.retrieve_async(session_id)
        except stripe.StripeError as error:
            _raise_provider_error(error, "retrieve checkout")
        return session.to_dict()


def _stripe_expiry(hold_expires_at: datetime) -> int:
    now = datetime.fromtimestamp(time.time(), UTC)
    clamped = min(max(hold_expires_at, now + _MIN_EXPIRY), now + _MAX_EXPIRY)
    return int(clamped.timestamp())


def _raise_provider_error(error: stripe.StripeError, action: str) -> NoReturn:
    """Stripe's error as the core's, with a message a client can read. Stripe's own message may quote
    what was sent (e.g. an e-mail address), so only its type, code and status are logged."""
    status = error.http_status
    retryable = isinstance(error, stripe.APIConnectionError) or status in (None, 409, 429) or status >= 500
    log.warning(
        "stripe %s failed: %s status=%s code=%s request=%s",
        action,
        type(error).__name__,
        status,
        error.code,
        error.request_id,
    )
    message = (
        "The payment service is not answering right now. Please try again in a few minutes."
        if retryable
        # Card declines come worded for the client; other messages are for developers.
        else (error.user_message if isinstance(error, stripe.CardError) else None)
        or "The payment could not be processed. Please try again later or contact the practitioner."
    )
    raise PaymentProviderError(message, retryable=retryable) from error
