"""Free slots: candidate slots minus everything live bookings occupy, in one sorted sweep."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from attrs import frozen

from booking_core.offer import Offer, Practitioner
from booking_core.schedule import slot_grid
from booking_core.timerange import TimeRange, merge, sorted_unique


class AvailabilitySourceName(StrEnum):
    SCHEDULE = "schedule"
    CALCOM = "calcom"
    CALCOM_STALE = "calcom_stale"  # Cal.com failed; its last good answer
    SCHEDULE_FALLBACK = "schedule_fallback"  # Cal.com failed with nothing cached


@frozen
class CandidateSlots:
    """Slots an availability source offers before bookings held here are taken out."""

    slots: tuple[TimeRange, ...]
    source: AvailabilitySourceName


@frozen
class Availability:
    practitioner_id: str
    window: TimeRange
    slots: tuple[TimeRange, ...]
    source: AvailabilitySourceName


def bookable_window(offer: Offer, window: TimeRange, now: datetime) -> TimeRange | None:
    """`window` cut to what minimum notice and the horizon allow, or None if nothing is left."""
    start = max(window.start, now + offer.min_notice)
    end = min(window.end, now + offer.horizon)
    return TimeRange(start, end) if start < end else None


def free_slots(
    candidates: Iterable[TimeRange],
    busy: Iterable[TimeRange],
    offer: Offer,
    window: TimeRange,
    now: datetime,
) -> list[TimeRange]:
    """Candidates that start in the bookable part of `window` and whose occupied span (slot plus
    buffers) overlaps nothing in `busy` (occupied spans of live bookings).

    One sweep over both sorted lists: O((slots + busy) log) for the sorts, linear after.
    """
    allowed = bookable_window(offer, window, now)
    if allowed is None:
        return []
    blocked = merge(busy)  # disjoint and sorted, so the first one ending after a start decides
    starts = [b.start for b in blocked]
    ends = [b.end for b in blocked]
    before, after = offer.buffer_before, offer.buffer_after
    lo, hi = allowed.start, allowed.end
    free: list[TimeRange] = []
    j, n = 0, len(blocked)
    for slot in sorted_unique(candidates):
        if not lo <= slot.start < hi:
            continue
        occupied_start = slot.start - before  # == offer.occupied(slot), without building it
        while j < n and ends[j] <= occupied_start:
            j += 1
        if j < n and starts[j] < slot.end + after:
            continue
        free.append(slot)
    return free


@frozen
class ScheduleSource:
    """The availability source for practitioners without Cal.com: their weekly schedule."""

    async def candidate_slots(
        self, practitioner: Practitioner, window: TimeRange, *, fresh: bool = False
    ) -> CandidateSlots:
        del fresh  # a schedule is always fresh
        offer = practitioner.offer
        slots = slot_grid(practitioner.schedule, window, offer.session_length, offer.step)
        return CandidateSlots(tuple(slots), AvailabilitySourceName.SCHEDULE)
