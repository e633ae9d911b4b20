"""Availability answers kept in memory for a moment, and dropped the instant a booking changes.

Availability is read far more than bookings change (a launch, a flash sale: everyone refreshes the
same weeks), and each answer costs a database query and the slot arithmetic. This process keeps the
encoded answer for at most `seconds` per (practitioner, range, time zone), and forgets a
practitioner's answers when their bookings change: in this process through the service's notifier,
in any process through PostgreSQL's change feed (booking_adapters.sql.changes). While that feed is
down nothing is cached (`trusted`).

What is served from here can be at most `seconds` behind the clock: a slot whose minimum notice
just ran out, a hold that just lapsed. Booking never trusts this: `request_booking` checks the slot
against the database, so the worst case is a clean 409 for a slot shown a moment too long.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Hashable

from attrs import frozen
from cachetools import TLRUCache

DEFAULT_SECONDS = 5.0  # as long as a practitioner edit may take to show (SqlDirectory)
DEFAULT_ENTRIES = 10_000  # least recently used answers go first beyond this
# Answers computed together (a cold start, a burst) would all expire together and be recomputed in
# one stampede: each lives between this fraction of `seconds` and all of it.
SPREAD = 0.5


@frozen
class Ticket:
    """What the cache knew of a practitioner when an answer's computation started."""

    epoch: int
    generation: int


class AvailabilityCache:
    def __init__(
        self,
        seconds: float = DEFAULT_SECONDS,
        *,
        max_entries: int = DEFAULT_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        trusted: Callable[[], bool] = lambda: True,
    ) -> None:
        self.enabled = seconds > 0

        def expiry(_key: Hashable, _value: object, now: float) -> float:
            return now + seconds * (1 - SPREAD * random.random())  # noqa: S311 (not for secrets)

        self._entries: TLRUCache[Hashable, tuple[Ticket, bytes]] = TLRUCache(max_entries, expiry, timer=clock)
        self.trusted = trusted  # False: do not serve or keep anything (changes could go unheard)
        self._epoch = 0  # bumped by clear(): every entry is void
        self._generations: dict[str, int] = {}  # bumped by changed(practitioner_id)

    def ticket(self, practitioner_id: str) -> Ticket:
        """Take before computing an answer; `put` discards it if a change came in meanwhile."""
        return Ticket(self._epoch, self._generations.get(practitioner_id, 0))

    def get(self, key: Hashable, practitioner_id: str) -> bytes | None:
        if not (self.enabled and self.trusted()):
            return None
        entry = self._entries.get(key)
        if entry is None or entry[0] != self.ticket(practitioner_id):
            return None
        return entry[1]

    def put(self, key: Hashable, practitioner_id: str, ticket: Ticket, body: bytes) -> None:
        if self.enabled and self.trusted() and ticket == self.ticket(practitioner_id):
            self._entries[key] = (ticket, body)

    def changed(self, practitioner_id: str) -> None:
        """The practitioner's bookings changed: their answers are void."""
        self._generations[practitioner_id] = self._generations.get(practitioner_id, 0) + 1

    def clear(self) -> None:
        """Changes may have been missed: every answer is void."""
        self._epoch += 1
        self._entries.clear()
