"""20 clients book 20 different free slots of one day at once, under a limit of 3 bookings a day:
exactly 3 bookings, 17 refusals, against the real databases, from separate connections of one
process and from separate OS processes (the database decides: no read before the write counts)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from booking_core import BookingStore, TimeRange
from booking_core.testing.contracts import DAY
from tests.contract.racing import DAY_LIMIT, RACE_AT, race_for_the_day
from tests.contract.racing_contract import RaceCase, RaceContract

CLIENTS = 20


async def _assert_the_limit_held(store: BookingStore, outcomes: Counter[str]) -> None:
    assert outcomes == {"booked": DAY_LIMIT, "limit reached": CLIENTS - DAY_LIMIT}
    day = await store.bookings_of("pr-a", TimeRange(DAY, DAY + timedelta(days=1)))
    assert len([booking for booking in day if booking.is_live(RACE_AT)]) == DAY_LIMIT


class TestRacingForALimitedDay(RaceContract):
    case = RaceCase(race_for_the_day, racers=list(range(CLIENTS)), check=_assert_the_limit_held)
