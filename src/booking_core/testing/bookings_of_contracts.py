"""The contract of `BookingStore.bookings_of` (a practitioner's bookings whose slot overlaps a range,
optionally by status, ordered by start): subclass it and give it a fixture `store`, empty, as for
BookingStoreContract (booking_core.testing.contracts, whose helpers it uses). Besides the examples,
a property: for any generated bookings (some cancelled), any window and any choice of statuses, the
answer is the model's: the bookings whose slot overlaps the window, of those statuses, by start."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core.booking import Booking, BookingStatus, Trigger
from booking_core.client import ClientDetails
from booking_core.errors import SlotUnavailable
from booking_core.ports import BookingStore
from booking_core.testing.contracts import ANN, DAY, NOW, client, hold, stored, transition
from booking_core.timerange import TimeRange

S = BookingStatus
_examples = itertools.count()  # each example's practitioner is its own
_placed = st.tuples(st.integers(0, 95), st.sampled_from([15, 30, 50, 90]), st.booleans())
_status_choices = st.sampled_from(
    [None, frozenset(), frozenset({S.PENDING_PAYMENT, S.CONFIRMED}), frozenset({S.CANCELLED})]
)


def minutes(start: int, end: int) -> TimeRange:
    """From `start` to `end` minutes after midnight of DAY."""
    return TimeRange(DAY + timedelta(minutes=start), DAY + timedelta(minutes=end))


async def add(
    store: BookingStore,
    booking_id: str,
    start_minute: int,
    held: ClientDetails = ANN,
    *,
    before: int = 0,
    after: int = 0,
) -> None:
    """A hold of a 50-minute slot, with buffers in minutes."""
    await store.add_if_free(*hold(booking_id, start_minute, client=held, before=before, after=after))


class BookingsOfContract:
    pytestmark = pytest.mark.anyio

    async def test_ordered_by_start_whatever_the_order_stored(self, store: BookingStore) -> None:
        for booking_id, start in (("c", 600), ("a", 480), ("b", 540)):
            await add(store, booking_id, start, client(start))
        found = await store.bookings_of("pr-a", minutes(0, 24 * 60))
        assert [b.id for b in found] == ["a", "b", "c"]
        assert found[0] == await stored(store, "a")  # whole bookings, as `get` reads them

    async def test_the_slot_overlaps_the_range_and_touching_is_out(self, store: BookingStore) -> None:
        await add(store, "nine", 540)  # 09:00-09:50
        assert [b.id for b in await store.bookings_of("pr-a", minutes(589, 600))] == ["nine"]
        assert [b.id for b in await store.bookings_of("pr-a", minutes(500, 541))] == ["nine"]
        assert await store.bookings_of("pr-a", minutes(590, 700)) == []  # starts when it ends
        assert await store.bookings_of("pr-a", minutes(400, 540)) == []  # ends when it starts

    async def test_buffers_do_not_count(self, store: BookingStore) -> None:
        await add(store, "buffered", 540, before=15, after=15)  # occupies 08:45-10:05
        assert await store.bookings_of("pr-a", minutes(590, 605)) == []
        assert await store.bookings_of("pr-a", minutes(525, 540)) == []

    async def test_only_the_practitioners_own(self, store: BookingStore) -> None:
        await add(store, "mine", 540)
        await store.add_if_free(*hold("theirs", 540, practitioner_id="pr-b", client=client(2)))
        assert [b.id for b in await store.bookings_of("pr-a", minutes(0, 1440))] == ["mine"]
        assert [b.id for b in await store.bookings_of("pr-b", minutes(0, 1440))] == ["theirs"]

    async def test_every_status_unless_some_are_asked_for(self, store: BookingStore) -> None:
        await add(store, "confirmed", 480)
        await add(store, "cancelled", 540, client(2))
        await add(store, "held", 600, client(3))
        for booking_id, trigger in (
            ("confirmed", Trigger.PAYMENT_CONFIRMED),
            ("cancelled", Trigger.CANCELLED),
        ):
            before = await stored(store, booking_id)
            await store.save(before, *transition(before, trigger, NOW + timedelta(minutes=1)))
        day = minutes(0, 1440)
        assert [b.id for b in await store.bookings_of("pr-a", day)] == ["confirmed", "cancelled", "held"]
        live = frozenset({S.CONFIRMED, S.PENDING_PAYMENT})
        assert [b.id for b in await store.bookings_of("pr-a", day, live)] == ["confirmed", "held"]
        assert [b.status for b in await store.bookings_of("pr-a", day, frozenset({S.CANCELLED}))] == [
            S.CANCELLED
        ]
        assert await store.bookings_of("pr-a", day, frozenset()) == []

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        placed=st.lists(_placed, max_size=12),
        window=st.tuples(st.integers(0, 100), st.integers(1, 100)),
        statuses=_status_choices,
    )
    async def test_any_window_and_statuses_find_what_the_model_finds(
        self,
        store: BookingStore,
        placed: list[tuple[int, int, bool]],
        window: tuple[int, int],
        statuses: frozenset[BookingStatus] | None,
    ) -> None:
        """Each placed (quarter of DAY, minutes, cancel it): a hold there if free, cancelled at once
        if asked (freeing its time for the next ones)."""
        practitioner = f"of-{next(_examples)}"
        model: list[Booking] = []
        for number, (quarter, length, cancel) in enumerate(placed):
            booking, placed_event = hold(
                f"{practitioner}-{number}", 15 * quarter, length=length, practitioner_id=practitioner
            )
            try:
                await store.add_if_free(booking, placed_event)
            except SlotUnavailable:
                continue
            if cancel:
                after, event = transition(booking, Trigger.CANCELLED, NOW + timedelta(minutes=1))
                await store.save(booking, after, event)
                booking = after
            model.append(booking)
        span = minutes(15 * window[0], 15 * (window[0] + window[1]))
        expected = sorted(
            (b for b in model if b.slot.overlaps(span) and (statuses is None or b.status in statuses)),
            key=lambda b: (b.slot.start, b.id),
        )
        found = await store.bookings_of(practitioner, span, statuses)
        assert [(b.id, b.status) for b in found] == [(b.id, b.status) for b in expected]
