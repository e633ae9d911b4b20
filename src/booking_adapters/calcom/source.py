"""Availability from Cal.com, cached and coalesced, degrading to stale data or the schedule.

A burst of visitors costs Cal.com one request per (event type, range): answers live for a short
TTL and concurrent misses await the one call in flight. Ranges are widened to whole UTC days so
that windows cut at "now + notice" (different on every request) still share a cache entry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from attrs import define, field, frozen
from cachetools import LRUCache

from booking_adapters.calcom.client import CalcomClient
from booking_adapters.calcom.metrics import AVAILABILITY_DEGRADED
from booking_adapters.calcom.settings import CalcomSettings, UnreachablePolicy
from booking_core import (
    AvailabilityProviderError,
    AvailabilitySource,
    AvailabilitySourceName,
    Booking,
    CandidateSlots,
    Practitioner,
    Service,
    TimeRange,
)

log = logging.getLogger(__name__)

# Enough for every practitioner's next weeks; bounds memory all the same (least recently used go).
# No time limit on the entries: an old answer still serves while Cal.com is down (`_degraded`).
_MAX_CACHED_RANGES = 2048

# The event type, the whole UTC days asked for, and the Cal.com uid of the booking whose move the
# slots are for (None: none; Cal.com then counts that booking's time as free).
_Key = tuple[int, TimeRange, str | None]


@frozen
class _Answer:
    fetched_at: float  # monotonic seconds
    starts: tuple[datetime, ...]


@define
class CalcomSource:
    """The AvailabilitySource for everyone: Cal.com for practitioners who name an event type,
    `schedule` for the others and as the last resort."""

    client: CalcomClient
    schedule: AvailabilitySource
    settings: CalcomSettings
    monotonic: Callable[[], float] = time.monotonic
    _answers: LRUCache[_Key, _Answer] = field(factory=lambda: LRUCache(_MAX_CACHED_RANGES), init=False)
    _in_flight: dict[_Key, asyncio.Task[tuple[datetime, ...]]] = field(factory=dict, init=False)

    async def candidate_slots(
        self,
        practitioner: Practitioner,
        window: TimeRange,
        *,
        fresh: bool = False,
        service: Service | None = None,
        moving: Booking | None = None,
    ) -> CandidateSlots:
        """Cal.com's event type says where slots start, for every service of the practitioner;
        each service's slots last its own length (the store's conflict rule keeps them apart).
        For a `moving` booking written to Cal.com already, Cal.com is told so
        (`bookingUidToReschedule`), else its own time would be busy there; such answers are kept
        apart from the others."""
        event_type_id = practitioner.calcom_event_type_id
        if event_type_id is None:
            return await self.schedule.candidate_slots(
                practitioner, window, fresh=fresh, service=service, moving=moving
            )
        length = practitioner.offer_for(service).session_length
        key = (event_type_id, _whole_days(window), moving.calendar_uid if moving is not None else None)
        try:
            if fresh:
                starts = await self._fetch(key, practitioner.timezone)
            else:
                starts = await self._cached_or_coalesced(key, practitioner.timezone)
        except AvailabilityProviderError as error:
            if fresh and self.settings.unreachable is UnreachablePolicy.REFUSE:
                log.warning(
                    "Cal.com could not re-check a slot of practitioner %s (event type %d): %s",
                    practitioner.id,
                    event_type_id,
                    error,
                )
                raise AvailabilityProviderError(
                    "The calendar cannot confirm this time right now. Please try again in a moment."
                ) from error
            return await self._degraded(practitioner, service, window, key, error)
        return CandidateSlots(_within(starts, window), length, AvailabilitySourceName.CALCOM)

    async def _cached_or_coalesced(self, key: _Key, time_zone: str) -> tuple[datetime, ...]:
        answer = self._answers.get(key)
        if answer is not None and self.monotonic() - answer.fetched_at < self.settings.cache_ttl_seconds:
            return answer.starts
        task = self._in_flight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch(key, time_zone))
            self._in_flight[key] = task
            task.add_done_callback(lambda done: self._settled(key, done))
        # shield: one visitor giving up must not cancel the call the others await
        return await asyncio.shield(task)

    def _settled(self, key: _Key, task: asyncio.Task[tuple[datetime, ...]]) -> None:
        if self._in_flight.get(key) is task:
            del self._in_flight[key]
        if not task.cancelled():
            task.exception()  # retrieved here too, in case every waiter gave up

    async def _fetch(self, key: _Key, time_zone: str) -> tuple[datetime, ...]:
        event_type_id, days, rescheduling = key
        starts = tuple(await self.client.slot_starts(event_type_id, days, time_zone, rescheduling))
        self._answers[key] = _Answer(self.monotonic(), starts)
        return starts

    async def _degraded(
        self,
        practitioner: Practitioner,
        service: Service | None,
        window: TimeRange,
        key: _Key,
        error: AvailabilityProviderError,
    ) -> CandidateSlots:
        last_good = self._last_good(key, window)
        if last_good is not None:
            source = AvailabilitySourceName.CALCOM_STALE
            starts = _within(last_good.starts, window)
        else:
            source = AvailabilitySourceName.SCHEDULE_FALLBACK
            starts = (await self.schedule.candidate_slots(practitioner, window, service=service)).starts
        AVAILABILITY_DEGRADED.labels(source.value).inc()
        log.warning(
            "Cal.com failed for practitioner %s (event type %d), answering from %s: %s",
            practitioner.id,
            key[0],
            source.value,
            error,
        )
        return CandidateSlots(starts, practitioner.offer_for(service).session_length, source)

    def _last_good(self, key: _Key, window: TimeRange) -> _Answer | None:
        """The newest answer for the event type whose range covers `window` (any age): one for the
        same move, or for none (that booking's time is busy there: one choice less, none wrong)."""
        event_type_id, _days, rescheduling = key
        covering = [
            answer
            for (cached_type, days, moving), answer in self._answers.items()
            if cached_type == event_type_id and days.contains(window) and moving in (None, rescheduling)
        ]
        return max(covering, key=lambda answer: answer.fetched_at, default=None)


def _whole_days(window: TimeRange) -> TimeRange:
    start = window.start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = window.end.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if end < window.end:
        end += timedelta(days=1)
    return TimeRange(start, end)


def _within(starts: tuple[datetime, ...], window: TimeRange) -> tuple[datetime, ...]:
    """Our slots have the offer's length: Cal.com's event type decides only where they start."""
    return tuple(start for start in starts if window.start <= start < window.end)
