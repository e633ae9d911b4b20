"""Where Checkout sends the client back: the same pages for the real and the local gateway."""

from __future__ import annotations

from urllib.parse import quote

SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"  # Stripe fills in the session id


def success_url(public_base_url: str, booking_id: str, session_id: str = SESSION_PLACEHOLDER) -> str:
    return (
        f"{public_base_url.rstrip('/')}/booking/success?booking={quote(booking_id)}&session_id={session_id}"
    )


def cancel_url(public_base_url: str, booking_id: str) -> str:
    return f"{public_base_url.rstrip('/')}/booking/cancelled?booking={quote(booking_id)}"
