"""50 clients, one slot: exactly one booking and 49 SlotUnavailable, against the real databases,
from separate connections of one process and from separate OS processes; also with a lapsed hold
in the way, which exactly one of them releases."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from booking_core import BookingStatus, BookingStore, TimeRange, Trigger
from booking_core.testing.contracts import DAY, NOW, hold
from tests.contract.racing import RACE_AT, SLOT_MINUTE, race
from tests.contract.racing_contract import RaceCase, RaceContract

CLIENTS = 50


async def _assert_one_live_booking(store: BookingStore, outcomes: Counter[str]) -> None:
    assert outcomes == {"booked": 1, "unavailable": CLIENTS - 1}
    window = TimeRange(DAY, DAY + timedelta(days=1))
    (span,) = await store.busy("pr-a", window, RACE_AT)
    assert span.start == DAY.replace(hour=9)


async def _place_a_lapsed_hold(store: BookingStore) -> None:
    await store.add_if_free(*hold("lapsed", SLOT_MINUTE + 30, at=NOW))


async def _assert_one_live_booking_and_one_release(store: BookingStore, outcomes: Counter[str]) -> None:
    await _assert_one_live_booking(store, outcomes)
    lapsed = await store.get("lapsed")
    assert lapsed is not None and lapsed.status is BookingStatus.EXPIRED
    releases = [e for e in await store.history("lapsed") if e.trigger is Trigger.HOLD_RELEASED]
    assert len(releases) == 1


class TestRacingForOneSlot(RaceContract):
    case = RaceCase(race, racers=[f"c{i}" for i in range(CLIENTS)], check=_assert_one_live_booking)


class TestRacingForOneSlotPastALapsedHold(RaceContract):
    case = RaceCase(
        race,
        racers=[f"c{i}" for i in range(CLIENTS)],
        place=_place_a_lapsed_hold,
        check=_assert_one_live_booking_and_one_release,
    )
