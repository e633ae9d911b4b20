"""The busy spans kept per practitioner (booking_web.busy_cache): what they answer for a window is
what the store answers for it, while nothing changed; a change, a gap in the change feed or the
cache's seconds make the next answer the store's again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking_adapters.memory import MemoryBookingStore
from booking_core import TimeOff, TimeRange
from booking_core.testing.strategies import EPOCH, instants
from booking_web.busy_cache import KeptBusySpans
from booking_web.change_tickets import ChangeTickets

NOW = EPOCH - timedelta(days=1)
DAYS = 120  # windows and time off within these days, so that reads overlap what is kept


class CountedReads:
    """The memory store's busy spans, counting the reads."""

    def __init__(self, store: MemoryBookingStore) -> None:
        self.store = store
        self.reads = 0

    async def busy(self, practitioner_id: str, window: TimeRange, now: datetime) -> Sequence[TimeRange]:
        self.reads += 1
        return await self.store.busy(practitioner_id, window, now)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def spans(max_quarters: int) -> st.SearchStrategy[TimeRange]:
    """On a grid of 6 hours, so that spans often touch windows and each other."""
    return st.builds(
        lambda start, quarters: TimeRange.of(start, timedelta(hours=6 * quarters)),
        instants(days=DAYS, step_minutes=6 * 60),
        st.integers(1, max_quarters),
    )


async def add_time_off(store: MemoryBookingStore, span: TimeRange, number: int, who: str = "jane") -> None:
    await store.add_time_off(TimeOff(f"to-{who}-{number}", who, span, NOW), NOW)


@settings(max_examples=60, deadline=None)
@given(
    blocks=st.lists(spans(8), max_size=30),
    steps=st.lists(st.tuples(spans(14 * 4), st.one_of(st.none(), spans(12))), min_size=1, max_size=12),
)
def test_kept_spans_answer_every_window_as_the_store_does(
    blocks: list[TimeRange], steps: list[tuple[TimeRange, TimeRange | None]]
) -> None:
    """Each step asks for a window, then maybe adds time off (a change this process hears of)."""

    async def run() -> None:
        store = MemoryBookingStore()
        for number, block in enumerate(blocks):  # overlapping and repeated blocks too
            await add_time_off(store, block, number)
        await add_time_off(store, blocks[0] if blocks else steps[0][0], -1, who="sam")  # not jane's
        tickets = ChangeTickets()
        kept = KeptBusySpans(CountedReads(store), 60, tickets=tickets, clock=FakeTime())
        for number, (window, added) in enumerate(steps):
            assert await kept.busy("jane", window, NOW) == await store.busy("jane", window, NOW)
            if added is not None:
                await add_time_off(store, added, 1000 + number)
                tickets.changed("jane")

    asyncio.run(run())


@pytest.mark.anyio
async def test_windows_within_what_was_read_are_answered_from_memory() -> None:
    store = MemoryBookingStore()
    reads = CountedReads(store)
    await add_time_off(store, TimeRange.of(EPOCH + timedelta(days=20), timedelta(hours=5)), 1)
    kept = KeptBusySpans(reads, 60, tickets=ChangeTickets(), clock=FakeTime())
    for day in range(50):  # a week from each of 50 start days: one read covers them
        window = TimeRange.of(EPOCH + timedelta(days=day), timedelta(days=7))
        assert await kept.busy("jane", window, NOW) == await store.busy("jane", window, NOW)
    assert reads.reads == 1


@pytest.mark.anyio
async def test_changes_gaps_distrust_and_time_make_the_next_answer_the_stores() -> None:
    store = MemoryBookingStore()
    reads = CountedReads(store)
    tickets, time, live = ChangeTickets(), FakeTime(), [True]
    kept = KeptBusySpans(reads, 60, tickets=tickets, clock=time, trusted=lambda: live[0])
    window = TimeRange.of(EPOCH, timedelta(days=7))

    async def read_afresh() -> bool:
        before = reads.reads
        assert await kept.busy("jane", window, NOW) == await store.busy("jane", window, NOW)
        return reads.reads > before

    assert await read_afresh()
    assert not await read_afresh()
    tickets.changed("sam")  # another practitioner's change voids nothing of jane's
    assert not await read_afresh()
    await add_time_off(store, TimeRange.of(EPOCH, timedelta(hours=2)), 1)
    tickets.changed("jane")
    assert await read_afresh()
    tickets.clear()  # a gap in the change feed
    assert await read_afresh()
    live[0] = False
    assert await read_afresh()
    assert await read_afresh()  # nothing kept or served while the feed is down
    live[0] = True
    tickets.clear()  # the feed, back, reports its gap
    assert await read_afresh()
    assert not await read_afresh()
    time.now += 60
    assert await read_afresh()  # the seconds ran out


@pytest.mark.anyio
async def test_spans_read_while_a_change_came_are_not_kept() -> None:
    store = MemoryBookingStore()
    tickets = ChangeTickets()
    window = TimeRange.of(EPOCH, timedelta(days=7))

    class ChangedWhileReading(CountedReads):
        async def busy(self, practitioner_id: str, window: TimeRange, now: datetime) -> Sequence[TimeRange]:
            answer = await super().busy(practitioner_id, window, now)
            if self.reads == 1:  # time off committed meanwhile
                await add_time_off(store, TimeRange.of(EPOCH, timedelta(hours=2)), 1)
                tickets.changed(practitioner_id)
            return answer

    kept = KeptBusySpans(ChangedWhileReading(store), 60, tickets=tickets, clock=FakeTime())
    assert await kept.busy("jane", window, NOW) == []
    assert await kept.busy("jane", window, NOW) == [TimeRange.of(EPOCH, timedelta(hours=2))]
