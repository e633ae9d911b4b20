"""The BookingStore's one guarantee as a property (see contracts.py for how to subclass a contract):
any generated history of holds, payments, cancellations, moves, time off taken and withdrawn, and
passing time is accepted by the store exactly when the core's rule accepts it (no live booking's occupied
span, from Offer.occupied, overlaps another's or the practitioner's time off), and the store releases
exactly the lapsed holds in the way. Fixture: `store`, empty; every example books for practitioners
of its own, so one store serves all of a test's examples.

How many examples: the active hypothesis profile's; a subclass may say otherwise with
`@settings` on an override that calls the contract's test (see tests/contract/test_ports.py)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from attrs import define, field, frozen
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from booking_core.booking import LIVE_STATUSES, Booking, BookingEvent, BookingStatus, Trigger
from booking_core.client import ClientDetails
from booking_core.errors import RescheduleNotAllowed, SlotUnavailable, TimeOffConflicts
from booking_core.money import Money
from booking_core.offer import Offer
from booking_core.ports import BookingStore
from booking_core.testing.contracts import DAY, NOW
from booking_core.testing.transitions import take
from booking_core.time_off import TimeOff
from booking_core.timerange import TimeRange

_examples = itertools.count()  # practitioners of each example are its own: no store reset needed


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
class Move:
    index: int
    start_minute: int


@frozen
class TakeTimeOff:
    practitioner: int
    start_minute: int
    minutes: int


@frozen
class WithdrawTimeOff:
    index: int


@frozen
class Wait:
    minutes: int


Step = Hold | Pay | Cancel | Move | TakeTimeOff | WithdrawTimeOff | Wait

offers = st.builds(
    Offer,
    session_length=st.sampled_from([timedelta(minutes=m) for m in (15, 30, 50, 90)]),
    price=st.just(Money(5000, "EUR")),
    buffer_before=st.sampled_from([timedelta(minutes=m) for m in (0, 5, 15)]),
    buffer_after=st.sampled_from([timedelta(minutes=m) for m in (0, 10, 30)]),
    hold_duration=st.sampled_from([timedelta(minutes=m) for m in (30, 45, 90)]),
)
histories = st.lists(
    st.one_of(
        st.builds(Hold, st.integers(0, 1), st.integers(0, 48).map(lambda q: q * 5), offers),
        st.builds(Pay, st.integers(0, 30)),
        st.builds(Cancel, st.integers(0, 30)),
        st.builds(Move, st.integers(0, 30), st.integers(0, 48).map(lambda q: q * 5)),
        st.builds(
            TakeTimeOff,
            st.integers(0, 1),
            st.integers(0, 48).map(lambda q: q * 5),
            st.sampled_from([5, 30, 90]),
        ),
        st.builds(WithdrawTimeOff, st.integers(0, 30)),
        st.builds(Wait, st.sampled_from([1, 15, 29, 30, 45, 120])),
    ),
    max_size=25,
)

# what a stored booking may become (the rest of the transition table does not change whether it is live)
_STEPS_TAKEN = {
    (BookingStatus.PENDING_PAYMENT, Trigger.PAYMENT_CONFIRMED),
    (BookingStatus.EXPIRED, Trigger.PAYMENT_CONFIRMED),  # a late payment: live again, if its slot is free
    (BookingStatus.PENDING_PAYMENT, Trigger.CANCELLED),
    (BookingStatus.CONFIRMED, Trigger.CANCELLED),
}


@define
class CoreRule:
    """The core's rule over plain dicts: what should the store do?"""

    bookings: dict[str, Booking] = field(factory=dict)
    time_off: dict[str, TimeOff] = field(factory=dict)

    def _in_the_way(self, practitioner_id: str, span: TimeRange, but: str = "") -> list[Booking]:
        return sorted(
            (
                other
                for other in self.bookings.values()
                if other.practitioner_id == practitioner_id
                and other.id != but
                and other.status in LIVE_STATUSES
                and other.occupied.overlaps(span)
            ),
            key=lambda b: (b.slot.start, b.id),
        )

    def _release_lapsed(self, in_the_way: list[Booking], now: datetime) -> None:
        for lapsed in in_the_way:
            self.bookings[lapsed.id] = lapsed.release(at=now, reason="hold lapsed")[0]

    def claim(self, booking: Booking, now: datetime) -> bool:
        """Would the core take `booking`, live at `now`? If so, release the lapsed holds in the way."""
        blocking = self._in_the_way(booking.practitioner_id, booking.occupied, but=booking.id)
        off = any(
            block.practitioner_id == booking.practitioner_id and block.span.overlaps(booking.occupied)
            for block in self.time_off.values()
        )
        if off or any(other.is_live(now) for other in blocking):
            return False
        self._release_lapsed(blocking, now)
        self.bookings[booking.id] = booking
        return True

    def take_time_off(self, block: TimeOff, now: datetime) -> tuple[str, ...]:
        """The live bookings that refuse `block` (none: it is taken, lapsed holds in its way released)."""
        in_the_way = self._in_the_way(block.practitioner_id, block.span)
        live = tuple(b.id for b in in_the_way if b.is_live(now))
        if not live:
            self._release_lapsed(in_the_way, now)
            self.time_off[block.id] = block
        return live


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
        cancel_token=f"token-{example}-{number}",
        now=now,
    )
    return booking


@define
class _History:
    """One example's run: the store and the rule side by side."""

    store: BookingStore
    example: int = field(factory=lambda: next(_examples))
    rule: CoreRule = field(factory=CoreRule)
    now: datetime = NOW
    created: list[str] = field(factory=list)
    offers: dict[str, Offer] = field(factory=dict)  # what each booking was made with (its buffers)
    taken_off: list[TimeOff] = field(factory=list)  # still standing
    time_off_ids: itertools.count[int] = field(factory=itertools.count)

    async def booking_step(self, step: Hold | Pay | Cancel) -> None:
        if isinstance(step, Hold):
            booking, before = _hold(self.example, len(self.created), step, self.now), None
            self.offers[booking.id] = step.offer
        else:
            if not self.created:
                return
            before = self.rule.bookings[self.created[step.index % len(self.created)]]
            trigger = Trigger.PAYMENT_CONFIRMED if isinstance(step, Pay) else Trigger.CANCELLED
            if (before.status, trigger) not in _STEPS_TAKEN:
                return
            booking = take(before, trigger, self.now, reason="generated")[0]
        becomes_live = booking.status in LIVE_STATUSES and (
            before is None or before.status not in LIVE_STATUSES
        )
        expected = self.rule.claim(booking, self.now) if becomes_live else True
        if not becomes_live:
            self.rule.bookings[booking.id] = booking
        try:
            if before is None:
                placed = BookingEvent(
                    booking.id, Trigger.HOLD_PLACED, None, booking.status, self.now, "generated"
                )
                await self.store.add_if_free(booking, placed)
            else:
                await self.store.save(before, booking, None)
            accepted = True
        except SlotUnavailable:
            accepted = False
        event(f"{type(step).__name__} {'accepted' if expected else 'refused'}")
        assert accepted == expected, (
            f"store {'accepted' if accepted else 'refused'} {booking.id} at {self.now}"
        )
        if before is None and accepted:
            self.created.append(booking.id)

    async def move(self, step: Move) -> None:
        """The practitioner moves a booking (no notice, no count): a claim of its new span, checked
        against everything but itself; its old span is released."""
        if not self.created:
            return
        booking_id = self.created[step.index % len(self.created)]
        before, offer = self.rule.bookings[booking_id], self.offers[booking_id]
        slot = TimeRange.of(DAY + timedelta(minutes=step.start_minute), offer.session_length)
        try:
            after, moving = before.reschedule(
                slot, offer=offer, at=self.now, reason="generated", by_practitioner=True
            )
        except RescheduleNotAllowed:  # not live any more, or its session started
            return
        expected = self.rule.claim(after, self.now)
        try:
            await self.store.save(before, after, moving)
            accepted = True
        except SlotUnavailable:
            accepted = False
        event(f"Move {'accepted' if expected else 'refused'}")
        assert accepted == expected, (
            f"store {'accepted' if accepted else 'refused'} moving {booking_id} at {self.now}"
        )

    async def take_time_off(self, step: TakeTimeOff) -> None:
        start = DAY + timedelta(minutes=step.start_minute)
        block = TimeOff(
            f"off{self.example}-{next(self.time_off_ids)}",
            f"rule-{self.example}-{step.practitioner}",
            TimeRange.of(start, timedelta(minutes=step.minutes)),
            self.now,
        )
        expected = self.rule.take_time_off(block, self.now)
        try:
            await self.store.add_time_off(block, self.now)
            refused: tuple[str, ...] = ()
        except TimeOffConflicts as conflicts:
            refused = conflicts.booking_ids
        event(f"TakeTimeOff {'refused' if expected else 'accepted'}")
        assert refused == expected, f"time off {block.id} at {self.now}: store refused for {refused}"
        if not refused:
            self.taken_off.append(block)

    async def withdraw_time_off(self, step: WithdrawTimeOff) -> None:
        if not self.taken_off:
            return
        block = self.taken_off.pop(step.index % len(self.taken_off))
        removed = await self.store.remove_time_off(block.practitioner_id, block.id)
        assert removed is not None and removed.id == block.id
        del self.rule.time_off[block.id]

    async def the_store_agrees(self) -> None:
        for booking_id in self.created:
            stored = await self.store.get(booking_id)
            assert stored is not None
            expected = self.rule.bookings[booking_id]
            assert (stored.status, stored.version) == (expected.status, expected.version), booking_id


class StoreRuleContract:
    """Generated histories against the core's rule. Fixture: `store`, empty."""

    pytestmark = pytest.mark.anyio

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(steps=histories)
    async def test_the_store_accepts_what_the_core_rule_accepts(
        self, store: BookingStore, steps: list[Step]
    ) -> None:
        history = _History(store)
        for step in steps:
            if isinstance(step, Wait):
                history.now += timedelta(minutes=step.minutes)
            elif isinstance(step, TakeTimeOff):
                await history.take_time_off(step)
            elif isinstance(step, WithdrawTimeOff):
                await history.withdraw_time_off(step)
            elif isinstance(step, Move):
                await history.move(step)
            else:
                await history.booking_step(step)
        await history.the_store_agrees()
