"""Generated histories of holds, payments, cancellations and passing time: the database accepts
exactly the bookings that the core's conflict rule accepts (no live booking's occupied span, from
Offer.occupied, overlaps), and releases exactly the lapsed holds in the way."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from attrs import frozen
from hypothesis import event, given
from hypothesis import strategies as st

from booking_adapters.sql import open_database, upgrade
from booking_core import (
    LIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    BookingStore,
    ClientDetails,
    Money,
    Offer,
    SlotUnavailable,
    TimeRange,
    Trigger,
)
from booking_core.testing.contracts import DAY, NOW
from booking_core.testing.transitions import take

_examples = itertools.count()


@frozen
class Hold:
    practitioner: int
    start_minute: int
    offer: Offer


@frozen
class Pay:
    index: int


@frozen
class Cancel:
    index: int


@frozen
class Wait:
    minutes: int


offers = st.builds(
    Offer,
    session_length=st.sampled_from([timedelta(minutes=m) for m in (15, 30, 50, 90)]),
    price=st.just(Money(5000, "EUR")),
    buffer_before=st.sampled_from([timedelta(minutes=m) for m in (0, 5, 15)]),
    buffer_after=st.sampled_from([timedelta(minutes=m) for m in (0, 10, 30)]),
    hold_duration=st.sampled_from([timedelta(minutes=m) for m in (30, 45, 90)]),
)
steps = st.lists(
    st.one_of(
        st.builds(Hold, st.integers(0, 1), st.integers(0, 48).map(lambda q: q * 5), offers),
        st.builds(Pay, st.integers(0, 30)),
        st.builds(Cancel, st.integers(0, 30)),
        st.builds(Wait, st.sampled_from([1, 15, 29, 30, 45, 120])),
    ),
    max_size=25,
)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def portal_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[BlockingPortal, BookingStore]]:
    """One database for all examples (each example books for practitioners of its own)."""
    if request.param == "sqlite":
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('rule')) / 'rule.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("postgres_url")
    with start_blocking_portal("asyncio") as portal:
        database = portal.call(open_database, url)
        try:
            yield portal, database.store
        finally:
            portal.call(database.close)


class Model:
    """The core's rule on a plain dict: what should the store do?"""

    def __init__(self) -> None:
        self.bookings: dict[str, Booking] = {}

    def in_the_way(self, booking: Booking) -> list[Booking]:
        return [
            other
            for other in self.bookings.values()
            if other.practitioner_id == booking.practitioner_id
            and other.id != booking.id
            and other.status in LIVE_STATUSES
            and other.occupied.overlaps(booking.occupied)
        ]

    def claim(self, booking: Booking, now: datetime) -> bool:
        """Would the core accept `booking` live at `now`? If so, release the lapsed holds in the way."""
        blocking = self.in_the_way(booking)
        if any(other.is_live(now) for other in blocking):
            return False
        for lapsed in blocking:
            self.bookings[lapsed.id] = lapsed.release(at=now, reason="hold lapsed")[0]
        self.bookings[booking.id] = booking
        return True


def _hold(example: int, number: int, step: Hold, now: datetime) -> Booking:
    slot = TimeRange.of(DAY + timedelta(minutes=step.start_minute), step.offer.session_length)
    booking, _ = Booking.hold(
        booking_id=f"x{example}-{number}",
        practitioner_id=f"rule-{example}-{step.practitioner}",
        slot=slot,
        occupied=step.offer.occupied(slot),
        client=ClientDetails("Ann Example", "ann@example.com", "+49301234567"),
        client_timezone="UTC",
        price=step.offer.price,
        hold_expires_at=now + step.offer.hold_duration,
        cancel_token="token",
        now=now,
    )
    return booking


@given(steps=steps)
def test_the_database_accepts_what_the_core_rule_accepts(
    portal_store: tuple[BlockingPortal, BookingStore], steps: list[Hold | Pay | Cancel | Wait]
) -> None:
    portal, store = portal_store
    example, model, now = next(_examples), Model(), NOW
    created: list[str] = []
    for step in steps:
        if isinstance(step, Wait):
            now += timedelta(minutes=step.minutes)
            continue
        if isinstance(step, Hold):
            booking = _hold(example, len(created), step, now)
            before = None
        else:
            if not created:
                continue
            before = model.bookings[created[step.index % len(created)]]
            trigger = Trigger.PAYMENT_CONFIRMED if isinstance(step, Pay) else Trigger.CANCELLED
            if (before.status, trigger) not in {
                (BookingStatus.PENDING_PAYMENT, Trigger.PAYMENT_CONFIRMED),
                (BookingStatus.EXPIRED, Trigger.PAYMENT_CONFIRMED),
                (BookingStatus.PENDING_PAYMENT, Trigger.CANCELLED),
                (BookingStatus.CONFIRMED, Trigger.CANCELLED),
            }:
                continue
            booking = take(before, trigger, now, reason="generated")[0]
        becomes_live = booking.status in LIVE_STATUSES and (
            before is None or before.status not in LIVE_STATUSES
        )
        expected = model.claim(booking, now) if becomes_live else True
        if not becomes_live:
            model.bookings[booking.id] = booking
        try:
            if before is None:
                placed = BookingEvent(booking.id, Trigger.HOLD_PLACED, None, booking.status, now, "generated")
                portal.call(store.add_if_free, booking, placed)
            else:
                portal.call(store.save, before, booking, None)
            accepted = True
        except SlotUnavailable:
            accepted = False
        event(f"{type(step).__name__} {'accepted' if expected else 'refused'}")
        assert accepted == expected, f"store {'accepted' if accepted else 'refused'} {booking.id} at {now}"
        if before is None and accepted:
            created.append(booking.id)
    for booking_id in created:
        stored = portal.call(store.get, booking_id)
        assert stored is not None
        assert (booking_id, stored.status, stored.version) == (
            booking_id,
            model.bookings[booking_id].status,
            model.bookings[booking_id].version,
        )
