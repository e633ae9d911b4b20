"""Stripe's webhook signature scheme (`Stripe-Signature: t=<unix>,v1=<hex>`), both ways, via the SDK."""

from __future__ import annotations

import time
from collections.abc import Mapping

import stripe

from booking_core import InvalidSignature

SIGNATURE_HEADER = "stripe-signature"
TOLERANCE_SECONDS = 300  # Stripe's default: older timestamps are replays


def signature_headers(payload: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers Stripe would send with `payload` (the local gateway and the fake server sign with it)."""
    at = int(time.time()) if timestamp is None else timestamp
    header = stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, timestamp=at)
    return {"content-type": "application/json", SIGNATURE_HEADER: header}


def verify_signature(payload: bytes, headers: Mapping[str, str], secret: str) -> None:
    """Raise InvalidSignature unless `payload` carries a fresh signature made with `secret`."""
    header = _header(headers, SIGNATURE_HEADER)
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE_SECONDS)
    except (stripe.SignatureVerificationError, UnicodeDecodeError):
        raise InvalidSignature("The webhook signature is missing, wrong or too old.") from None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Header names are case-insensitive; plain dicts (tests, other frameworks) are not."""
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name), None)
