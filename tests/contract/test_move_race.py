"""20 confirmed bookings all move into the same free slot at once while a new booking races them
for it: exactly one wins, the 20 others get SlotUnavailable and keep their time, and no two live
bookings overlap; against the real databases, from separate connections of one process and from
separate OS processes (issue 16)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

from booking_core import BookingStore, TimeRange
from booking_core.testing.contracts import DAY
from tests.contract.racing import (
    MOVE_TO_MINUTE,
    NEW_BOOKING,
    RACE_AT,
    move_racers,
    mover,
    place_movers,
    race_to_move,
)
from tests.contract.racing_contract import RaceCase, RaceContract

MOVERS = 20


async def _place_the_movers(store: BookingStore) -> None:
    await place_movers(store, MOVERS)


async def _assert_one_winner(store: BookingStore, outcomes: Counter[str]) -> None:
    assert outcomes == {"booked": 1, "unavailable": MOVERS}
    day = await store.bookings_of("pr-a", TimeRange(DAY, DAY + timedelta(days=1)))
    live = [booking for booking in day if booking.is_live(RACE_AT)]
    assert len(live) == MOVERS + (NEW_BOOKING in {booking.id for booking in live})
    for a, b in itertools.combinations(live, 2):
        assert not a.occupied.overlaps(b.occupied), (a.id, b.id)
    target = DAY + timedelta(minutes=MOVE_TO_MINUTE)
    (winner,) = [
        booking for booking in live if booking.occupied.overlaps(TimeRange.of(target, timedelta(hours=1)))
    ]
    for number in range(MOVERS):  # every loser where it was, untouched
        _held, (paid, _payment) = mover(number)
        if paid.id != winner.id:
            assert await store.get(paid.id) == paid


class TestRacingToMoveIntoOneSlot(RaceContract):
    case = RaceCase(
        race_to_move,
        racers=move_racers(MOVERS),
        place=_place_the_movers,
        check=_assert_one_winner,
    )
