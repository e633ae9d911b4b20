"""What is stored of a practitioner's calendar feed address (booking_core.calendar_feed says why)."""

from __future__ import annotations

from datetime import datetime

from attrs import frozen


@frozen
class FeedKey:
    practitioner_id: str
    generation: int  # the token is derived from it; rotating takes the next one
    token_hash: str  # SHA-256 of the token: what a request is looked up by
    created_at: datetime
