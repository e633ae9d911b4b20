"""A practitioner's calendar feed: the secret address calendar apps subscribe to, and what it lists.

The token in the address is a keyed hash of the practitioner's id and a generation number
(`IdGenerator.calendar_feed_token`, under the server's secret, like the cancel token); only its
SHA-256 is stored, to find the feed by, with the generation. So the address can be shown again
whenever the practitioner asks (the same generation gives the same token) while a copy of the
database alone opens no feed; rotating moves to the next generation, and the old address is gone.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta

from attrs import define, frozen

from booking_core.booking import ATTENDED_STATUSES, Booking, hash_token
from booking_core.errors import NotFound, UnknownPractitioner
from booking_core.feed_keys import FeedKey
from booking_core.offer import Practitioner
from booking_core.ports import BookingStore, CalendarFeedKeys, Clock, IdGenerator, PractitionerDirectory
from booking_core.time_off import TimeOff
from booking_core.timerange import TimeRange

# What a feed spans around now: recent sessions stay visible for a while, a year ahead covers any
# booking horizon. Calendar apps drop what leaves the feed.
FEED_PAST = timedelta(days=60)
FEED_AHEAD = timedelta(days=366)

_NO_FEED = "There is no calendar at this address."  # the same for any wrong token: no hint


@frozen
class FeedContent:
    """What a feed lists: confirmed sessions (completed and missed ones too), holds still awaiting
    payment (tentative), time off (busy); cancelled, lapsed and refunded bookings are absent.
    `changed_at`: the latest change of a booking in the window (a cancellation too) or of its time
    off, for Last-Modified."""

    practitioner: Practitioner
    window: TimeRange
    sessions: Sequence[Booking]
    time_off: Sequence[TimeOff]
    changed_at: datetime | None


def is_listed(booking: Booking, now: datetime) -> bool:
    """A confirmed session (or one over: completed, or missed), or a hold whose payment may still come."""
    return booking.status in ATTENDED_STATUSES or booking.is_live(now)


@define
class CalendarFeeds:
    """The feed's use cases: its address (created on first ask, rotated on demand), whose it is,
    and what it lists."""

    directory: PractitionerDirectory
    store: BookingStore
    keys: CalendarFeedKeys
    clock: Clock
    ids: IdGenerator

    async def token(self, practitioner_id: str) -> str:
        """The practitioner's feed token, the same on every ask (created on the first)."""
        await self._practitioner(practitioner_id)
        key = await self.keys.key_of(practitioner_id)
        if key is None:
            return await self._issue(practitioner_id, 1)
        token = self.ids.calendar_feed_token(practitioner_id, key.generation)
        if not hmac.compare_digest(hash_token(token), key.token_hash):
            # The server's secret changed since: the stored address cannot be shown again, so the
            # practitioner gets a new one (as after a rotation).
            return await self._issue(practitioner_id, key.generation + 1)
        return token

    async def rotate(self, practitioner_id: str) -> str:
        """A new feed token; the previous address answers 404 from now on."""
        await self._practitioner(practitioner_id)
        key = await self.keys.key_of(practitioner_id)
        return await self._issue(practitioner_id, 1 if key is None else key.generation + 1)

    async def practitioner_of(self, token: str) -> Practitioner:
        """Whose feed `token` opens; NotFound, alike for every wrong token, otherwise (also for a
        removed practitioner's)."""
        key = await self.keys.key_by_hash(hash_token(token)) if token else None
        practitioner = await self.directory.get(key.practitioner_id) if key is not None else None
        if practitioner is None:
            raise NotFound(_NO_FEED)
        return practitioner

    async def content(self, practitioner: Practitioner) -> FeedContent:
        now = self.clock.now()
        window = TimeRange(now - FEED_PAST, now + FEED_AHEAD)
        bookings = await self.store.bookings_of(practitioner.id, window)
        time_off = await self.store.time_off(practitioner.id, window)
        changes = [booking.updated_at for booking in bookings] + [block.created_at for block in time_off]
        return FeedContent(
            practitioner,
            window,
            [booking for booking in bookings if is_listed(booking, now)],
            time_off,
            max(changes, default=None),
        )

    async def _issue(self, practitioner_id: str, generation: int) -> str:
        token = self.ids.calendar_feed_token(practitioner_id, generation)
        await self.keys.put(FeedKey(practitioner_id, generation, hash_token(token), self.clock.now()))
        return token

    async def _practitioner(self, practitioner_id: str) -> Practitioner:
        practitioner = await self.directory.get(practitioner_id)
        if practitioner is None:
            raise UnknownPractitioner(practitioner_id)
        return practitioner
