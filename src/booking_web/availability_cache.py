"""Availability answers kept in memory, dropped the instant a booking changes or time changes them.

Availability is read far more than bookings change (a launch, a flash sale: everyone refreshes the
same weeks), and each answer costs a database query and the slot arithmetic. This process keeps the
encoded answer per (practitioner, days, time zone):
- until the practitioner or their bookings change: in this process through the service's notifier,
  in any process through PostgreSQL's change feed (booking_adapters.sql.changes). While that feed
  is down nothing is cached (`trusted`);
- until time alone would change it (`booking_core.unchanged_until`: a slot entering its minimum
  notice, the horizon letting new slots in), exactly;
- for `seconds` at most (spread, see SPREAD). That bounds what nothing announces: a pending hold
  that lapsed shows as free once housekeeping releases it or this runs out, whichever comes first.

Booking never trusts this: `request_booking` asks the source and the store afresh, so the worst a
cached answer can cause is a clean 409.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Hashable

from attrs import frozen
from cachetools import TLRUCache

DEFAULT_SECONDS = 60.0  # with PostgreSQL's change feed; see UNHEARD_SECONDS without it
# Without a change feed (SQLite, the memory fakes) another process's practitioner edit is not
# heard: answers live no longer than the SQL directory keeps a practitioner.
UNHEARD_SECONDS = 5.0
DEFAULT_ENTRIES = 10_000  # least recently used answers go first beyond this
# Answers computed together (a cold start, a burst) would all expire together and be recomputed in
# one stampede: each lives between this fraction of `seconds` and all of it.
SPREAD = 0.5


# What the cache knew of a practitioner when an answer's computation started: (epoch, generation).
# A plain tuple: one is made on every request.
Ticket = tuple[int, int]


@frozen
class _Entry:
    ticket: Ticket
    body: bytes
    until: float | None  # on the cache's clock: when time alone changes the answer


class AvailabilityCache:
    def __init__(
        self,
        seconds: float = UNHEARD_SECONDS,
        *,
        max_entries: int = DEFAULT_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        trusted: Callable[[], bool] = lambda: True,
    ) -> None:
        self._seconds = seconds  # UNHEARD_SECONDS at most unless a change feed voids answers
        self._trusted = trusted  # False: do not serve or keep anything (changes could go unheard)
        self._clock = clock
        self._entries: TLRUCache[Hashable, _Entry] = TLRUCache(max_entries, self._expiry, timer=clock)
        self._epoch = 0  # bumped by clear(): every entry is void
        self._generations: dict[str, int] = {}  # bumped by changed(practitioner_id)

    def _expiry(self, _key: Hashable, entry: _Entry, now: float) -> float:
        spread = now + self._seconds * (1 - SPREAD * random.random())  # noqa: S311 (not for secrets)
        return spread if entry.until is None else min(spread, entry.until)

    def ticket(self, practitioner_id: str) -> Ticket:
        """Take before computing an answer; `put` discards it if a change came in meanwhile."""
        return self._epoch, self._generations.get(practitioner_id, 0)

    def get(self, key: Hashable, practitioner_id: str) -> bytes | None:
        if not (self._seconds > 0 and self._trusted()):
            return None
        entry = self._entries.get(key)
        if entry is None or entry.ticket != self.ticket(practitioner_id):
            return None
        return entry.body

    def put(
        self, key: Hashable, practitioner_id: str, ticket: Ticket, body: bytes, until: float | None
    ) -> None:
        """Keep `body` until `until` (None: only the cache's own limit) unless a change voids it."""
        if not (self._seconds > 0 and self._trusted() and ticket == self.ticket(practitioner_id)):
            return
        if until is not None and until <= self._clock():
            return
        self._entries[key] = _Entry(ticket, body, until)

    def changed(self, practitioner_id: str) -> None:
        """The practitioner or their bookings changed: their answers are void."""
        self._generations[practitioner_id] = self._generations.get(practitioner_id, 0) + 1

    def clear(self) -> None:
        """Changes may have been missed: every answer is void."""
        self._epoch += 1
        self._entries.clear()
