"""Availability answers kept in memory, dropped the instant a booking changes or time changes them:
an AvailabilityAnswers in front of another (`booking_web.availability_answers`), so the endpoint
does not know whether an answer was kept.

Availability is read far more than bookings change (a launch, a flash sale: everyone refreshes the
same weeks), and each answer costs a database query and the slot arithmetic. This process keeps the
encoded answer per (practitioner, query string as sent) when the answer says it may be reused:
- until the practitioner or their bookings change: in this process through the service's change
  listener, in any process through PostgreSQL's change feed (booking_adapters.sql.changes). While
  that feed is down nothing is cached (`trusted`);
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
from collections.abc import Callable

from attrs import frozen
from cachetools import TLRUCache

from booking_web.availability_answers import AvailabilityAnswer, AvailabilityAnswers
from booking_web.change_tickets import ChangeTickets, Ticket

DEFAULT_SECONDS = 60.0  # with PostgreSQL's change feed; see UNHEARD_SECONDS without it
# Without a change feed (SQLite, the memory fakes) another process's practitioner edit is not
# heard: answers live no longer than the SQL directory keeps a practitioner.
UNHEARD_SECONDS = 5.0
DEFAULT_ENTRIES = 10_000  # least recently used answers go first beyond this
# Answers computed together (a cold start, a burst) would all expire together and be recomputed in
# one stampede: each lives between this fraction of `seconds` and all of it.
SPREAD = 0.5
MAX_KEPT_QUERY = 200  # bytes of query string: longer ones are answered, not kept


Key = tuple[str, bytes]  # (practitioner id, query string)


@frozen
class _Entry:
    ticket: Ticket
    answer: AvailabilityAnswer
    until: float | None  # on the cache's clock: when time alone changes the answer


class AvailabilityCache:
    """An AvailabilityAnswers that answers from memory what `answers` answered before."""

    def __init__(
        self,
        answers: AvailabilityAnswers,
        seconds: float = UNHEARD_SECONDS,
        *,
        max_entries: int = DEFAULT_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        trusted: Callable[[], bool] = lambda: True,
        counted: Callable[[bool], None] = lambda hit: None,
        tickets: ChangeTickets | None = None,
    ) -> None:
        self._answers = answers  # asked on every miss
        self._seconds = seconds  # UNHEARD_SECONDS at most unless a change feed voids answers
        self._trusted = trusted  # False: do not serve or keep anything (changes could go unheard)
        self._clock = clock
        self._counted = counted  # told of each answer: True if it was kept
        self._entries: TLRUCache[Key, _Entry] = TLRUCache(max_entries, self._expiry, timer=clock)
        # What the cache knew of a practitioner when an answer's computation started; shared with
        # the busy spans' memory (booking_web.busy_cache), which changes void alike.
        self._tickets = tickets or ChangeTickets()

    def _expiry(self, _key: Key, entry: _Entry, now: float) -> float:
        spread = now + self._seconds * (1 - SPREAD * random.random())  # noqa: S311 (not for secrets)
        return spread if entry.until is None else min(spread, entry.until)

    async def answer(self, practitioner_id: str, query: bytes) -> AvailabilityAnswer:
        key = (practitioner_id, query)
        kept = self._kept(key)
        if kept is not None:
            self._counted(True)
            return kept
        # Taken before asking: an answer a change overtook while it was computed is not kept.
        ticket = self._ticket(practitioner_id)
        answer = await self._answers.answer(practitioner_id, query)
        self._keep(key, ticket, answer)
        self._counted(False)
        return answer

    def _ticket(self, practitioner_id: str) -> Ticket:
        return self._tickets.ticket(practitioner_id)

    def _serving(self) -> bool:
        return self._seconds > 0 and self._trusted()

    def _kept(self, key: Key) -> AvailabilityAnswer | None:
        if not self._serving():
            return None
        entry = self._entries.get(key)
        if entry is None or entry.ticket != self._ticket(key[0]):
            return None
        return entry.answer

    def _keep(self, key: Key, ticket: Ticket, answer: AvailabilityAnswer) -> None:
        if not (answer.reusable and len(key[1]) <= MAX_KEPT_QUERY and self._serving()):
            return
        if ticket != self._ticket(key[0]):
            return
        until = None if answer.unchanged_until is None else answer.unchanged_until.timestamp()
        if until is not None and until <= self._clock():
            return
        self._entries[key] = _Entry(ticket, answer, until)

    def changed(self, practitioner_id: str) -> None:
        """The practitioner or their bookings changed: their answers are void."""
        self._tickets.changed(practitioner_id)

    def clear(self) -> None:
        """Changes may have been missed: every answer is void."""
        self._tickets.clear()
        self._entries.clear()
