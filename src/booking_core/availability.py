"""Free slots: candidate slots minus everything live bookings occupy and the practitioner's time
off, in one sorted sweep."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import accumulate, islice
from operator import le

from attrs import frozen

from booking_core.booking import Booking
from booking_core.offer import DEFAULT_SERVICE_ID, Offer, Practitioner, Service
from booking_core.schedule import slot_starts
from booking_core.timerange import TimeRange, ascending, bounds

_START_OF_TIME = datetime.min.replace(tzinfo=UTC)
_END_OF_TIME = datetime.max.replace(tzinfo=UTC)


class AvailabilitySourceName(StrEnum):
    SCHEDULE = "schedule"
    CALCOM = "calcom"
    CALCOM_STALE = "calcom_stale"  # Cal.com failed; its last good answer
    SCHEDULE_FALLBACK = "schedule_fallback"  # Cal.com failed with nothing cached


@frozen
class CandidateSlots:
    """What an availability source offers, before bookings held here are taken out: start times
    (UTC) of slots that all last `length`, the offer's session length; a source decides only where
    slots start. Starts need not be sorted or unique; the sweep makes them so."""

    starts: tuple[datetime, ...]
    length: timedelta
    source: AvailabilitySourceName

    @property
    def slots(self) -> tuple[TimeRange, ...]:
        starts = ascending(self.starts)
        return tuple(TimeRange._trusted(start, start + self.length) for start in starts)


@frozen
class Availability:
    practitioner_id: str
    window: TimeRange
    slots: tuple[TimeRange, ...]
    source: AvailabilitySourceName
    service_id: str = DEFAULT_SERVICE_ID  # the slots are this service's (its length, step, buffers)


def bookable_window(offer: Offer, window: TimeRange, now: datetime) -> TimeRange | None:
    """`window` cut to what minimum notice and the horizon allow, or None if nothing is left."""
    start = max(window.start, now + offer.min_notice)
    end = min(window.end, now + offer.horizon)
    return TimeRange(start, end) if start < end else None


def unchanged_until(
    free: Sequence[TimeRange], offer: Offer, window: TimeRange, now: datetime
) -> datetime | None:
    """Until when `free`, the free slots of `window` computed at `now`, stays the answer as time
    passes, the same bookings given: the instant minimum notice reaches its first slot (that slot is
    still offered at exactly that instant). None: time alone never changes it. `now` itself when the
    horizon ends inside `window`: a later instant may let new slots in.

    A pending hold lapsing changes the bookings, not time: a reader that keeps an answer this long
    shows a lapsed hold's slot once the hold is released (see docs/operations.md)."""
    if now + offer.horizon < window.end:
        return now
    return free[0].start - offer.min_notice if free else None


def free_slots(
    candidates: CandidateSlots, busy: Iterable[TimeRange], offer: Offer, window: TimeRange, now: datetime
) -> list[TimeRange]:
    """Candidates that start in the bookable part of `window` and whose occupied span (slot plus
    buffers) overlaps nothing in `busy` (occupied spans of live bookings, and time off: a block
    is busy as a booking occupying it would be, the rule the store enforces).

    A slot starting at s occupies (s - before, s + length + after), so a busy span b blocks exactly
    the starts in the open interval (b.start - length - after, b.end + before). One sweep over the
    sorted starts and the busy spans sorted by start: a start is blocked when some span that opened
    before it reaches past it, which the running maximum of their ends answers. Linear in slots plus
    busy spans after sorting (both usually arrive sorted); ranges are built only for free slots.
    """
    allowed = bookable_window(offer, window, now)
    if allowed is None:
        return []
    starts = ascending(candidates.starts)
    starts = starts[bisect_left(starts, allowed.start) : bisect_left(starts, allowed.end)]
    spans = list(busy)
    span_starts = [span.start for span in spans]
    if not all(map(le, span_starts, islice(span_starts, 1, None))):  # stores usually sort them already
        spans.sort(key=bounds)
        span_starts = [span.start for span in spans]
    reach_back = candidates.length + offer.buffer_after
    opens = [start - reach_back for start in span_starts]
    opens.append(_END_OF_TIME)  # a sentinel: the inner loop needs no bounds check
    before = offer.buffer_before
    reach = list(accumulate([span.end + before for span in spans], max))
    free: list[datetime] = []
    keep = free.append
    opened, blocked_until = 0, _START_OF_TIME  # how far the spans opened so far reach
    for start in starts:
        while opens[opened] < start:
            blocked_until = reach[opened]
            opened += 1
        if blocked_until <= start:
            keep(start)
    length = candidates.length
    return [TimeRange._trusted(start, start + length) for start in free]


@frozen
class ScheduleSource:
    """The availability source for practitioners without Cal.com: their weekly schedule."""

    async def candidate_slots(
        self,
        practitioner: Practitioner,
        window: TimeRange,
        *,
        fresh: bool = False,
        service: Service | None = None,
        moving: Booking | None = None,
    ) -> CandidateSlots:
        del fresh, moving  # a schedule is always fresh, and holds no booking
        offer = practitioner.offer_for(service)
        starts = slot_starts(practitioner.schedule, window, offer.session_length, offer.step)
        return CandidateSlots(tuple(starts), offer.session_length, AvailabilitySourceName.SCHEDULE)
