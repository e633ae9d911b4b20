"""What blocks a practitioner's slots (occupied spans of live bookings, time off), kept in memory per
practitioner for weeks at a time: a BusySpans in front of the store's, for availability only.

An availability answer that the answer cache (`booking_web.availability_cache`) cannot give, a query
not asked lately (another start day, time zone or service), otherwise costs a database round trip
for the few spans of one week. A miss here reads KEPT_DAYS from the start of the window's week at
once, and later windows inside what was read are cut from memory, by the rule the store applies.

What is kept is forgotten exactly as kept answers are, through the same tickets
(`booking_web.change_tickets`): a booking or time off changing in this process or, through
PostgreSQL's change feed, in any other; everything on a gap in that feed; nothing is kept or served
while the feed is down (`trusted`); and after `seconds` at most (spread as the answers' are). A
pending hold is kept as busy until then or until housekeeping releases it (a change), as a kept
answer keeps it (docs/operations.md, "Caches and the change feed").
"""

from __future__ import annotations

import random
import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from attrs import field, frozen
from cachetools import TLRUCache

from booking_core import BusySpans, TimeRange
from booking_web.availability_cache import DEFAULT_ENTRIES, SPREAD, UNHEARD_SECONDS
from booking_web.change_tickets import ChangeTickets, Ticket

KEPT_DAYS = timedelta(days=63)  # read on a miss from the window's week on: a 60-day horizon and then some
MOST_KEPT = timedelta(days=126)  # a miss next to what is kept reads both, up to this much
_WEEK = timedelta(days=7)
_WEEKS_FROM = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday: kept ranges start on whole UTC weeks


@frozen
class _Kept:
    ticket: Ticket
    covered: TimeRange
    spans: Sequence[TimeRange]  # sorted by (start, end), as the store answers
    starts: list[datetime] = field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "starts", [span.start for span in self.spans])

    def holds(self, window: TimeRange) -> bool:
        return self.covered.start <= window.start and window.end <= self.covered.end

    def within(self, window: TimeRange) -> list[TimeRange]:
        """The kept spans that overlap `window`, in their order: what the store answers for it."""
        before_end = self.spans[: bisect_left(self.starts, window.end)]
        return [span for span in before_end if span.end > window.start]


class KeptBusySpans:
    """A BusySpans that answers from memory what `spans` answered for a wider range before."""

    def __init__(
        self,
        spans: BusySpans,
        seconds: float = UNHEARD_SECONDS,
        *,
        tickets: ChangeTickets,
        max_entries: int = DEFAULT_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        trusted: Callable[[], bool] = lambda: True,
    ) -> None:
        self._spans = spans
        self._seconds = seconds
        self._tickets = tickets
        self._trusted = trusted
        self._entries: TLRUCache[str, _Kept] = TLRUCache(max_entries, self._expiry, timer=clock)

    def _expiry(self, _key: str, _entry: _Kept, now: float) -> float:
        return now + self._seconds * (1 - SPREAD * random.random())  # noqa: S311 (not for secrets)

    async def busy(self, practitioner_id: str, window: TimeRange, now: datetime) -> Sequence[TimeRange]:
        if not (self._seconds > 0 and self._trusted()):
            return await self._spans.busy(practitioner_id, window, now)
        ticket = self._tickets.ticket(practitioner_id)  # taken before reading, as the answers' are
        kept = self._entries.get(practitioner_id)
        if kept is not None and kept.ticket != ticket:
            kept = None
        if kept is not None and kept.holds(window):
            return kept.within(window)
        covered = _to_read(window, kept.covered if kept is not None else None)
        read = _Kept(ticket, covered, await self._spans.busy(practitioner_id, covered, now))
        if ticket == self._tickets.ticket(practitioner_id) and self._trusted():
            self._entries[practitioner_id] = read
        return read.within(window)


def _to_read(window: TimeRange, kept: TimeRange | None) -> TimeRange:
    """From the start of `window`'s week, KEPT_DAYS or to its end; with what is kept if not too long."""
    start = _WEEKS_FROM + (window.start - _WEEKS_FROM) // _WEEK * _WEEK
    wanted = TimeRange._trusted(start, max(window.end, start + KEPT_DAYS))
    if kept is None:
        return wanted
    both = TimeRange._trusted(min(wanted.start, kept.start), max(wanted.end, kept.end))
    return both if both.duration <= MOST_KEPT else wanted
