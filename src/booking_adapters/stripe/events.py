"""Stripe events and Checkout Sessions, reduced to the core's PaymentEvent.

Both gateways (real and local) verify and read webhooks through `verify_webhook` here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from attrs import evolve

from booking_adapters.stripe.signing import verify_signature
from booking_core import InvalidPaymentEvent, Money, PaymentEvent, PaymentEventKind

log = logging.getLogger(__name__)

_CHECKOUT_KINDS = {
    "checkout.session.completed": PaymentEventKind.CHECKOUT_COMPLETED,
    "checkout.session.async_payment_succeeded": PaymentEventKind.ASYNC_PAYMENT_SUCCEEDED,
    "checkout.session.async_payment_failed": PaymentEventKind.ASYNC_PAYMENT_FAILED,
    "checkout.session.expired": PaymentEventKind.CHECKOUT_EXPIRED,
}
_REFUND_EVENTS = frozenset({"refund.created", "refund.updated"})
_REFUND_SETTLED = frozenset({"succeeded", "pending"})  # money is (or is on its way) back


def verify_webhook(
    payload: bytes, headers: Mapping[str, str], secret: str, *, livemode: bool
) -> PaymentEvent:
    """The PaymentEvent in a signed webhook request; raises InvalidSignature, or InvalidPaymentEvent
    for a correctly signed body that is not a Stripe event or whose `livemode` is not the key's.

    The signature is checked by the SDK on the raw bytes; the body is then read as plain JSON, which is
    all `construct_event` adds (its StripeObject wrapper has no `.get`)."""
    verify_signature(payload, headers, secret)
    try:
        document = json.loads(payload)
        event = payment_event(document)
    except (ValueError, KeyError, TypeError, AttributeError):
        # Correctly signed but not an event we can read: the secret is shared with someone sloppy.
        log.warning("signed webhook body is not a Stripe event")
        raise InvalidPaymentEvent("The webhook body is signed but is not a Stripe event.") from None
    if document.get("livemode") is not livemode:
        # A test-mode event at a live service or the other way round: never money to act on here.
        log.warning("stripe event %s (%s) refused: livemode is not the key's", event.id, document["type"])
        raise InvalidPaymentEvent("The event's mode (test or live) is not the mode of the API key.")
    return event


def payment_event(document: Mapping[str, Any]) -> PaymentEvent:
    event_id, event_type = str(document["id"]), str(document["type"])
    data = document["data"]["object"]
    if event_type in _CHECKOUT_KINDS:
        return session_event(data, event_id, _CHECKOUT_KINDS[event_type])
    if event_type == "charge.refunded":
        refunded = _refund_event(
            event_id, data, refund_id=_latest_refund_id(data), amount_key="amount_refunded"
        )
        return evolve(refunded, refunded_total=refunded.refunded)  # a charge's amount_refunded adds up
    if event_type in _REFUND_EVENTS and data.get("status") in _REFUND_SETTLED:
        return _refund_event(event_id, data, refund_id=data.get("id"), amount_key="amount")
    return PaymentEvent(event_id, PaymentEventKind.OTHER)


def session_event(session: Mapping[str, Any], event_id: str, kind: PaymentEventKind) -> PaymentEvent:
    return PaymentEvent(
        id=event_id,
        kind=kind,
        booking_id=session.get("client_reference_id") or _metadata_booking_id(session),
        checkout_session_id=session.get("id"),
        payment_intent_id=_object_id(session.get("payment_intent")),
        paid=session.get("payment_status") == "paid",
        amount=_money(session, "amount_total"),
    )


def session_status(session: Mapping[str, Any]) -> PaymentEvent:
    """What a retrieved session says now, as a synthetic event (reconciliation); the id names the state,
    so asking twice about an unchanged session gives the same event."""
    status, payment_status = session.get("status"), session.get("payment_status")
    kind = {
        "complete": PaymentEventKind.CHECKOUT_COMPLETED,
        "expired": PaymentEventKind.CHECKOUT_EXPIRED,
    }.get(str(status), PaymentEventKind.OTHER)
    return session_event(session, f"status-{session.get('id')}-{status}-{payment_status}", kind)


def _refund_event(event_id: str, data: Mapping[str, Any], *, refund_id: Any, amount_key: str) -> PaymentEvent:
    intent = data.get("payment_intent")
    return PaymentEvent(
        id=event_id,
        kind=PaymentEventKind.REFUNDED,
        booking_id=_metadata_booking_id(data)
        or (_metadata_booking_id(intent) if isinstance(intent, dict) else None),
        payment_intent_id=_object_id(intent),
        refund_id=str(refund_id) if refund_id else None,
        refunded=_money(data, amount_key),
    )


def _latest_refund_id(charge: Mapping[str, Any]) -> str | None:
    """Charges list their refunds only when `refunds` was expanded (newer API versions omit it)."""
    refunds = charge.get("refunds")
    listed = refunds.get("data") if isinstance(refunds, dict) else None
    return str(listed[0]["id"]) if listed else None


def _metadata_booking_id(document: Mapping[str, Any]) -> str | None:
    metadata = document.get("metadata") or {}
    value = metadata.get("booking_id")
    return str(value) if value else None


def _object_id(value: Any) -> str | None:
    """An expandable field is an id, an expanded object, or null."""
    if isinstance(value, dict):
        return str(value["id"])
    return str(value) if value else None


def _money(document: Mapping[str, Any], amount_key: str) -> Money | None:
    amount, currency = document.get(amount_key), document.get("currency")
    if amount is None or not currency:
        return None
    return Money(int(amount), str(currency))
