"""The production clock and id generator."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from attrs import field, frozen


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def _random_id() -> str:
    """128 random bits, URL-safe, never starting with "-": an id is typed on command lines
    (`booking bookings show ID`), where a leading dash reads as an option (drawing again costs
    well under a bit of the 128)."""
    while (candidate := secrets.token_urlsafe(16)).startswith("-"):
        pass
    return candidate


@frozen
class SecureIds:
    """Booking ids carry 128 random bits; cancel tokens are an HMAC of the id under a server secret,
    so an idempotent retry can return the same token while only its hash is stored; secret tokens
    (sign-in links, sessions, API tokens) 256. Calendar feed tokens are an HMAC too, of the
    practitioner's id and the feed's generation, so the address can be shown again."""

    secret: bytes = field(repr=False)

    def new_booking_id(self) -> str:
        return _random_id()

    def new_time_off_id(self) -> str:
        return _random_id()

    def cancel_token(self, booking_id: str) -> str:
        return hmac.new(self.secret, b"cancel:" + booking_id.encode(), hashlib.sha256).hexdigest()

    def secret_token(self) -> str:
        return secrets.token_urlsafe(32)

    def calendar_feed_token(self, practitioner_id: str, generation: int) -> str:
        message = f"calendar-feed:{generation}:{practitioner_id}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()
