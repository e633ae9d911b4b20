"""A PractitionerDirectory that serves what another one read from memory for a few seconds.

Every availability and booking request asks for its practitioner, a booking request several times
(validation, notifications, the answer), and practitioners change rarely. Each SQL read costs about
a millisecond of this process's CPU (docs/performance.md), so reads are served from memory for
`seconds`. A change made through this directory forgets at once; one made by another process
(`booking practitioners import` beside running workers) shows within that time, or at once where a
change feed calls `forget` (PostgreSQL, booking_web.bootstrap).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime

from cachetools import TTLCache

from booking_core import Practitioner, PractitionerDirectory

MAX_PRACTITIONERS = 10_000  # least recently used go first beyond this

_Key = tuple[str, bool]  # (practitioner id, include_removed)


class CachedDirectory:
    """Satisfies PractitionerDirectory over `directory`; `seconds` 0 caches nothing."""

    def __init__(
        self,
        directory: PractitionerDirectory,
        seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory
        self._seconds = seconds
        self._by_id: TTLCache[_Key, Practitioner] = TTLCache(MAX_PRACTITIONERS, seconds or 1, timer=clock)
        self._everyone: TTLCache[None, tuple[Practitioner, ...]] = TTLCache(1, seconds or 1, timer=clock)

    async def get(self, practitioner_id: str, *, include_removed: bool = False) -> Practitioner | None:
        key = (practitioner_id, include_removed)
        practitioner = self._by_id.get(key)
        if practitioner is None:
            practitioner = await self.directory.get(practitioner_id, include_removed=include_removed)
            if practitioner is not None and self._seconds > 0:  # the unknown are asked about again
                self._by_id[key] = practitioner
        return practitioner

    async def list(self) -> Sequence[Practitioner]:
        everyone = self._everyone.get(None)
        if everyone is None:
            everyone = tuple(await self.directory.list())
            if self._seconds > 0:
                self._everyone[None] = everyone
                for practitioner in everyone:  # listed: not removed, whichever way they are asked for
                    self._by_id[(practitioner.id, False)] = practitioner
                    self._by_id[(practitioner.id, True)] = practitioner
        return list(everyone)

    async def upsert(self, practitioner: Practitioner) -> None:
        try:
            await self.directory.upsert(practitioner)
        finally:
            self.forget()

    async def remove(self, practitioner_id: str, now: datetime) -> None:
        try:
            await self.directory.remove(practitioner_id, now)
        finally:
            self.forget()

    def forget(self, practitioner_id: str | None = None) -> None:
        """Read `practitioner_id` (None: everyone) from the directory next time."""
        if practitioner_id is None:
            self._by_id.clear()
        else:
            self._by_id.pop((practitioner_id, False), None)
            self._by_id.pop((practitioner_id, True), None)
        self._everyone.clear()
