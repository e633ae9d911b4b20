"""Stripe-shaped JSON objects (`checkout.session`, `refund`, `event`) as the API and webhooks carry them.

The local test gateway and the fake Stripe server both build their documents here, so the events they
sign have one shape: the one in Stripe's spec (tests validate it against the published schemas).
"""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]

API_VERSION = "2026-09-30.endive"


def checkout_session(
    *,
    session_id: str,
    created: int,
    expires_at: int,
    url: str,
    amount_total: int,
    currency: str,
    client_reference_id: str | None,
    customer_email: str | None,
    metadata: dict[str, str],
    success_url: str | None,
    cancel_url: str | None,
    status: str = "open",
    payment_status: str = "unpaid",
    payment_intent: str | None = None,
) -> JsonObject:
    """A one-off payment-mode session; fields a booking flow never reads stay at Stripe's defaults."""
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": amount_total,
        "amount_total": amount_total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "created": created,
        "currency": currency.lower(),
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": None,
        "customer_email": customer_email,
        "expires_at": expires_at,
        "livemode": False,
        "metadata": dict(metadata),
        "mode": "payment",
        "payment_intent": payment_intent,
        "payment_method_types": ["card"],
        "payment_status": payment_status,
        "shipping_options": [],
        "status": status,
        "success_url": success_url,
        "url": url if status == "open" else None,
    }


def refund(
    *,
    refund_id: str,
    created: int,
    amount: int,
    currency: str,
    payment_intent: str,
    metadata: dict[str, str] | None = None,
    status: str = "succeeded",
) -> JsonObject:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": None,
        "charge": None,
        "created": created,
        "currency": currency.lower(),
        "metadata": dict(metadata or {}),
        "payment_intent": payment_intent,
        "reason": None,
        "receipt_number": None,
        "status": status,
    }


def event(*, event_id: str, event_type: str, created: int, data_object: JsonObject) -> JsonObject:
    """A snapshot event, as webhooks deliver it and `GET /v1/events/{id}` returns it."""
    return {
        "id": event_id,
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": {"object": data_object},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
