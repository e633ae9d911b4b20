"""The ReminderLedger as a property (see contracts.py for how to subclass a contract): any generated
run of bookings confirmed, cancelled and moved, claims by two workers (of any reminders, also of a
start the booking has left, with any lease), reminders sent or failed (retried later), workers that
vanish with what they claimed (their leases lapse), and passing time hands out exactly what a plain
model of the port says: a reminder whose booking is still confirmed at that start, not sent, its
lease or retry time over. So workers that send only within their lease send each (booking, start,
offset) at most once; and `upcoming` shows each booking's last placement and the offsets sent for
its current start. Fixtures: `store` and `ledger` over the same data, empty (as for
ReminderLedgerContract); every example books for practitioners of its own, in days of its own (so
that `upcoming` reads its bookings only).

How many examples: the active hypothesis profile's (see store_properties.py to say otherwise)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from attrs import define, field, frozen
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from booking_core.booking import Booking, BookingStatus, Trigger
from booking_core.offer import Offer
from booking_core.ports import BookingStore, ReminderLedger
from booking_core.reminders import Reminder
from booking_core.testing.contracts import NOW, hold, transition
from booking_core.timerange import TimeRange

_examples = itertools.count()
EXAMPLE_DAYS = 4  # each example's bookings lie in days of its own: `upcoming` need not read others'
OFFSETS = (timedelta(hours=24), timedelta(hours=2))
WORKERS = 2


@frozen
class Book:
    start_minute: int


@frozen
class Pick:
    booking: int  # one of the bookings made
    start: int  # one of the starts it has had (the last: its current one)
    offset: int  # one of OFFSETS


@frozen
class Claim:
    worker: int
    picks: tuple[Pick, ...]
    lease_seconds: int


@frozen
class Send:
    index: int  # one of what the workers hold


@frozen
class Fail:
    index: int
    retry_seconds: int


@frozen
class Vanish:
    """The worker stops (a crash, a deploy): what it claimed stays leased until the lease ends."""

    worker: int


@frozen
class Cancel:
    booking: int


@frozen
class Move:
    booking: int


@frozen
class Wait:
    seconds: int


Step = Book | Claim | Send | Fail | Vanish | Cancel | Move | Wait

_workers = st.integers(0, WORKERS - 1)
_picks = st.builds(Pick, st.integers(0, 5), st.integers(0, 2), st.integers(0, len(OFFSETS) - 1))
_claims = st.builds(
    Claim, _workers, st.lists(_picks, min_size=1, max_size=4).map(tuple), st.sampled_from([0, 30, 60, 120])
)
_books = st.builds(Book, st.integers(0, 20).map(lambda q: q * 30))
_sends = st.builds(Send, st.integers(0, 5))
_failures = st.builds(Fail, st.integers(0, 5), st.sampled_from([0, 20, 90]))
runs = st.tuples(
    st.lists(_books, min_size=1, max_size=3),  # a few bookings to begin with, so that claims find some
    st.lists(
        # claims, sends and failures more likely than the rest: a double send needs them in a row
        st.one_of(
            _books,
            _claims,
            _claims,
            _sends,
            _sends,
            _failures,
            st.builds(Vanish, _workers),
            st.builds(Cancel, st.integers(0, 5)),
            st.builds(Move, st.integers(0, 5)),
            st.builds(Wait, st.sampled_from([10, 30, 60])),
        ),
        min_size=4,
        max_size=25,
    ),
).map(lambda run: [*run[0], *run[1]])


@define
class _Record:
    """The model's record of one reminder."""

    sent: int = 0  # times sent: the property is that it never exceeds 1
    leased_until: datetime | None = None  # also: not before (a retry's time)


@define
class _Run:
    store: BookingStore
    ledger: ReminderLedger
    example: int = field(factory=lambda: next(_examples))
    now: datetime = NOW
    bookings: list[Booking] = field(factory=list)  # as the store has them now
    starts: dict[str, list[datetime]] = field(factory=dict)  # every start each booking had, in order
    placed: dict[str, datetime] = field(factory=dict)
    records: dict[Reminder, _Record] = field(factory=dict)
    held: list[list[tuple[Reminder, datetime]]] = field(factory=lambda: [[] for _ in range(WORKERS)])

    def __attrs_post_init__(self) -> None:
        self.now = NOW + self._days

    @property
    def _days(self) -> timedelta:
        return timedelta(days=EXAMPLE_DAYS * self.example)

    async def book(self, step: Book) -> None:
        number = len(self.bookings)
        booking, placed = hold(
            f"rm{self.example}-{number}",
            int(self._days.total_seconds()) // 60 + step.start_minute,
            practitioner_id=f"remind-{self.example}-{number}",
            at=self.now,
        )
        await self.store.add_if_free(booking, placed)
        paid, confirmed = transition(booking, Trigger.PAYMENT_CONFIRMED, self.now)
        await self.store.save(booking, paid, confirmed)
        self.bookings.append(paid)
        self.starts[paid.id] = [paid.slot.start]
        self.placed[paid.id] = self.now

    def _claimable(self, reminder: Reminder) -> bool:
        booking = next(b for b in self.bookings if b.id == reminder.booking_id)
        if booking.status is not BookingStatus.CONFIRMED or booking.slot.start != reminder.slot_start:
            return False
        record = self.records.get(reminder, _Record())
        return not record.sent and (record.leased_until is None or record.leased_until <= self.now)

    async def claim(self, step: Claim) -> None:
        if not self.bookings:
            return
        asked: list[Reminder] = []
        for pick in step.picks:
            booking = self.bookings[pick.booking % len(self.bookings)]
            starts = self.starts[booking.id]
            reminder = Reminder(booking.id, starts[pick.start % len(starts)], OFFSETS[pick.offset])
            if reminder not in asked:
                asked.append(reminder)
        expected = [reminder for reminder in asked if self._claimable(reminder)]
        claimed = await self.ledger.claim(asked, self.now, lease_seconds=step.lease_seconds)
        assert list(claimed) == expected, f"claimed {claimed} at {self.now}, expected {expected}"
        event("claimed some" if claimed else "claimed none")
        if any(self.records.get(r, _Record()).leased_until for r in claimed):
            event("claimed again after a lapsed lease or at its retry time")
        if len(claimed) < len(asked):
            event("refused some (sent, leased, cancelled or moved)")
        leased_until = self.now + timedelta(seconds=step.lease_seconds)
        held = self.held[step.worker]
        for reminder in claimed:
            self.records.setdefault(reminder, _Record()).leased_until = leased_until
            held[:] = [(r, until) for r, until in held if r != reminder]
            held.append((reminder, leased_until))

    def _take(self, index: int) -> Reminder | None:
        """One of what the workers hold, taken from its worker: the reminder, if that worker's lease
        still runs (a worker sends nothing after)."""
        held = [(worker, entry) for worker, entries in enumerate(self.held) for entry in entries]
        if not held:
            return None
        worker, (reminder, leased_until) = held[index % len(held)]
        self.held[worker].remove((reminder, leased_until))
        return reminder if leased_until > self.now else None

    async def send(self, step: Send) -> None:
        if (reminder := self._take(step.index)) is None:
            return
        await self.ledger.mark_sent([reminder], self.now)
        record = self.records[reminder]
        record.sent += 1
        record.leased_until = None
        event("sent")
        assert record.sent == 1, f"{reminder} sent twice"

    async def fail(self, step: Fail) -> None:
        if (reminder := self._take(step.index)) is None:
            return
        retry_at = self.now + timedelta(seconds=step.retry_seconds)
        await self.ledger.mark_failed(reminder, self.now, "generated failure", retry_at)
        self.records[reminder].leased_until = retry_at
        event("failed")

    async def change(self, step: Cancel | Move) -> None:
        if not self.bookings:
            return
        index = step.booking % len(self.bookings)
        booking = self.bookings[index]
        if booking.status is not BookingStatus.CONFIRMED:
            return
        if isinstance(step, Cancel):
            after, change = transition(booking, Trigger.CANCELLED, self.now)
        else:  # by the practitioner, an hour later each time: the booking's practitioner has no other
            later = TimeRange.of(booking.slot.start + timedelta(hours=1), booking.slot.duration)
            offer = Offer(booking.slot.duration, booking.price)
            after, moved = booking.reschedule(
                later, offer=offer, at=self.now, reason="generated", by_practitioner=True
            )
            assert moved is not None
            change = moved
            self.starts[booking.id].append(later.start)
            self.placed[booking.id] = self.now
        await self.store.save(booking, after, change)
        self.bookings[index] = after

    async def upcoming_agrees(self) -> None:
        """Each confirmed booking (in any order) with its last placement and the offsets sent."""
        mine = {booking.id for booking in self.bookings}
        within = timedelta(days=EXAMPLE_DAYS - 1)
        upcoming = [u for u in await self.ledger.upcoming(self.now, within) if u.booking.id in mine]
        assert sorted((u.booking.id, u.placed_at, u.sent) for u in upcoming) == sorted(
            (b.id, self.placed[b.id], self._sent(b))
            for b in self.bookings
            if b.status is BookingStatus.CONFIRMED
        )
        assert all(u.booking == next(b for b in self.bookings if b.id == u.booking.id) for u in upcoming)

    def _sent(self, booking: Booking) -> frozenset[timedelta]:
        return frozenset(
            reminder.offset
            for reminder, record in self.records.items()
            if reminder.booking_id == booking.id and reminder.slot_start == booking.slot.start and record.sent
        )


class ReminderLedgerPropertyContract:
    """Generated runs against the model. Fixtures: `store` and `ledger` over the same data, empty."""

    pytestmark = pytest.mark.anyio

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(steps=runs)
    async def test_claims_hand_out_what_the_model_says_and_each_reminder_goes_once(
        self, store: BookingStore, ledger: ReminderLedger, steps: list[Step]
    ) -> None:
        run = _Run(store, ledger)
        for step in steps:
            if isinstance(step, Book):
                await run.book(step)
            elif isinstance(step, Claim):
                await run.claim(step)
            elif isinstance(step, Send):
                await run.send(step)
            elif isinstance(step, Fail):
                await run.fail(step)
            elif isinstance(step, Vanish):
                run.held[step.worker].clear()
            elif isinstance(step, Cancel | Move):
                await run.change(step)
            else:
                run.now += timedelta(seconds=step.seconds)
        await run.upcoming_agrees()
