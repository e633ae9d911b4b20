"""CachedDirectory: practitioners from memory for its seconds, forgotten at once on a change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest
from attrs import define, evolve, field

from booking_adapters.directory_cache import CachedDirectory
from booking_adapters.memory import MemoryDirectory
from booking_core import Practitioner
from booking_web.demo import DEMO_PRACTITIONERS

pytestmark = pytest.mark.anyio


@define
class CountingDirectory:
    inner: MemoryDirectory
    reads: int = 0

    async def get(self, practitioner_id: str, *, include_removed: bool = False) -> Practitioner | None:
        self.reads += 1
        return await self.inner.get(practitioner_id, include_removed=include_removed)

    async def list(self) -> Sequence[Practitioner]:
        self.reads += 1
        return await self.inner.list()

    async def upsert(self, practitioner: Practitioner) -> None:
        await self.inner.upsert(practitioner)

    async def remove(self, practitioner_id: str, now: datetime) -> None:
        await self.inner.remove(practitioner_id, now)


@define
class Ticks:
    now: float = field(default=0.0)

    def __call__(self) -> float:
        return self.now


async def test_reads_are_served_from_memory_until_the_seconds_run_out() -> None:
    counting, ticks = CountingDirectory(MemoryDirectory.of(DEMO_PRACTITIONERS)), Ticks()
    cached = CachedDirectory(counting, 5, clock=ticks)
    first = DEMO_PRACTITIONERS[0]
    await cached.list()
    assert await cached.get(first.id) == first
    assert counting.reads == 1  # the list answered the get too
    ticks.now = 5.0
    assert await cached.get(first.id) == first
    assert counting.reads == 2


async def test_a_change_through_it_is_seen_at_once_and_none_is_cached_with_zero_seconds() -> None:
    first = DEMO_PRACTITIONERS[0]
    cached = CachedDirectory(MemoryDirectory.of(DEMO_PRACTITIONERS), 60, clock=Ticks())
    await cached.get(first.id)
    renamed = evolve(first, name="Someone Else")
    await cached.upsert(renamed)
    assert await cached.get(first.id) == renamed
    counting = CountingDirectory(MemoryDirectory.of(DEMO_PRACTITIONERS))
    uncached = CachedDirectory(counting, 0, clock=Ticks())
    await uncached.get(first.id)
    await uncached.get(first.id)
    assert counting.reads == 2
