"""Reminders: the planning rule as pure functions (hypothesis properties), and the relay that sends
them over the memory fakes: once per confirmed booking and offset, none once cancelled, late after an
outage but never after the start, and never twice when two relays race."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from attrs import define, evolve, field
from hypothesis import assume, event, given
from hypothesis import strategies as st

from booking_adapters.memory import MemoryDirectory, MemoryReminderLedger
from booking_core import (
    Booking,
    BookingStatus,
    Money,
    Offer,
    Practitioner,
    ProviderError,
    Reminder,
    ReminderRelay,
    TimeRange,
    Trigger,
    placed_at,
    planned_reminders,
)
from booking_core.reminder_relay import RETRY_DELAY
from booking_core.testing.strategies import bookings, instants
from booking_core.testing.transitions import take

from .fixtures import World, practitioner, request

pytestmark = pytest.mark.anyio
HOUR = timedelta(hours=1)
offset_lists = st.lists(st.integers(1, 72 * 12).map(lambda n: n * timedelta(minutes=5)), max_size=4)


# -- the rule, pure ----------------------------------------------------------------------------


@given(bookings(statuses=(BookingStatus.CONFIRMED,)), offset_lists, st.data())
def test_a_confirmed_booking_has_one_reminder_per_offset_whose_time_comes_after_it_was_placed(
    booking: Booking, offsets: list[timedelta], data: st.DataObject
) -> None:
    placed = data.draw(instants(start=booking.slot.start - timedelta(days=4), days=4))
    reminders = planned_reminders(booking, placed, offsets)
    expected = {offset for offset in offsets if placed < booking.slot.start - offset}
    assert sorted(reminder.offset for reminder in reminders) == sorted(expected)  # once each
    for reminder in reminders:
        assert (reminder.booking_id, reminder.slot_start) == (booking.id, booking.slot.start)
        assert reminder.due_at == booking.slot.start - reminder.offset
        assert reminder.is_due(reminder.due_at) and not reminder.is_due(
            reminder.due_at - timedelta(seconds=1)
        )
        assert not reminder.is_due(booking.slot.start)  # never once the session started
    assert [reminder.due_at for reminder in reminders] == sorted(reminder.due_at for reminder in reminders)


@given(
    bookings(statuses=tuple(status for status in BookingStatus if status is not BookingStatus.CONFIRMED)),
    offset_lists,
)
def test_a_booking_not_confirmed_has_none(booking: Booking, offsets: list[timedelta]) -> None:
    assert planned_reminders(booking, booking.created_at, offsets) == ()


@given(
    bookings(statuses=(BookingStatus.PENDING_PAYMENT,)),
    offset_lists,
    st.integers(1, 600),
    st.integers(1, 600),
)
def test_a_booking_is_placed_when_confirmed_and_a_cancellation_drops_its_reminders(
    held: Booking, offsets: list[timedelta], paid_after: int, cancelled_after: int
) -> None:
    paid_at = held.created_at + timedelta(minutes=paid_after)
    paid, confirmation = take(held, Trigger.PAYMENT_CONFIRMED, paid_at)
    assert confirmation is not None
    history = [confirmation]
    assert placed_at(history) == paid_at
    assert planned_reminders(paid, placed_at(history), offsets) == planned_reminders(paid, paid_at, offsets)
    cancelled, cancellation = take(paid, Trigger.CANCELLED, paid_at + timedelta(minutes=cancelled_after))
    assert cancellation is not None
    assert placed_at([*history, cancellation]) == paid_at  # a cancellation places nothing
    assert planned_reminders(cancelled, placed_at([*history, cancellation]), offsets) == ()


@given(bookings(statuses=(BookingStatus.CONFIRMED,)), offset_lists, st.data())
def test_a_reschedule_moves_the_reminders_to_the_new_start_from_the_move_on(
    booking: Booking, offsets: list[timedelta], data: st.DataObject
) -> None:
    """After a move at `moved_at`, the reminders are the new start's, each once, and only those
    whose time is still to come at the move: none is left of the old start."""
    moved_at = data.draw(instants(start=booking.created_at, days=1))
    assume(moved_at < booking.slot.start)
    shift = data.draw(st.integers(-24 * 12, 7 * 24 * 12).filter(bool)) * timedelta(minutes=5)
    target = TimeRange.of(booking.slot.start + shift, booking.slot.duration)
    assume(target.start > moved_at)
    offer = Offer(booking.slot.duration, booking.price)
    moved, event = booking.reschedule(target, offer=offer, at=moved_at, reason="moved", by_practitioner=True)
    assert event is not None and event.trigger is Trigger.RESCHEDULED
    placed = placed_at([event])
    assert placed == moved_at
    reminders = planned_reminders(moved, placed, offsets)
    assert {r.slot_start for r in reminders} <= {target.start}
    assert sorted(r.offset for r in reminders) == sorted(
        o for o in set(offsets) if moved_at < target.start - o
    )
    before = set(planned_reminders(booking, booking.created_at, offsets))
    assert not before & set(reminders)  # a reminder of the old start never counts for the new one


def test_a_booking_never_confirmed_was_never_placed() -> None:
    assert placed_at([]) is None


# -- the relay, over the memory fakes ---------------------------------------------------------------


@define
class Sent:
    """A ReminderSender that records what it sent (and when), and fails for the bookings in `failing`."""

    clock: World
    sent: list[tuple[Reminder, datetime]] = field(factory=list)
    failing: set[str] = field(factory=set)
    channel: str = "email"

    async def send(self, reminder: Reminder, booking: Booking, practitioner: Practitioner) -> None:
        await asyncio.sleep(0)  # let a racing relay run in between
        if booking.id in self.failing:
            raise ProviderError("the mail server is down")
        assert booking.status is BookingStatus.CONFIRMED and booking.slot.start == reminder.slot_start
        self.sent.append((reminder, self.clock.clock.now()))


def reminded(offsets: tuple[timedelta, ...] = (timedelta(hours=24), 2 * HOUR)) -> Practitioner:
    """A practitioner of free sessions (confirmed as booked), reminding `offsets` before each."""
    jane = practitioner(price=Money(0, "EUR"))
    return evolve(jane, offer=evolve(jane.offer, reminder_offsets=offsets))


def relay_of(world: World, sender: Sent) -> ReminderRelay:
    return ReminderRelay(
        MemoryReminderLedger(world.store), MemoryDirectory.of(world.practitioners), sender, world.clock
    )


async def book(world: World, start: datetime) -> Booking:
    """A booking of `start` by a client of its own (free bookings are capped per client)."""
    n = len(world.store.all_bookings())
    asked = evolve(request(start), email=f"client{n}@example.com", phone=f"+49 30 {1000000 + n}")
    return (await world.service.request_booking(asked)).booking


async def slot_starts(world: World, days: int = 7) -> list[datetime]:
    availability = await world.service.list_availability(
        "jane", TimeRange.of(world.clock.now(), timedelta(days=days))
    )
    return [slot.start for slot in availability.slots]


async def test_each_reminder_goes_once_at_its_time() -> None:
    world = World(practitioners=[reminded()])
    sender = Sent(world)
    relay = relay_of(world, sender)
    start = (await slot_starts(world))[20]
    booking = await book(world, start)
    assert [(r.due_at, r.offset) for r in await relay.planned()] == [
        (start - timedelta(hours=24), timedelta(hours=24)),
        (start - 2 * HOUR, 2 * HOUR),
    ]
    world.clock.set(start - timedelta(hours=24) - timedelta(seconds=1))
    assert await relay.run_once() == (0, 0)
    world.clock.advance(timedelta(seconds=1))
    assert await relay.run_once() == (1, 0)
    assert await relay.run_once() == (0, 0)
    world.clock.set(start - 2 * HOUR)
    assert await relay.run_once() == (1, 0)
    world.clock.set(start - HOUR)
    assert await relay.run_once() == (0, 0)
    assert [(r.booking_id, r.offset, at) for r, at in sender.sent] == [
        (booking.id, timedelta(hours=24), start - timedelta(hours=24)),
        (booking.id, 2 * HOUR, start - 2 * HOUR),
    ]
    assert await relay.planned() == []


async def test_a_booking_made_inside_a_window_gets_only_the_later_reminders() -> None:
    world = World(practitioners=[reminded()])
    sender = Sent(world)
    relay = relay_of(world, sender)
    start = (await slot_starts(world))[2]
    world.clock.set(start - 3 * HOUR)  # 21 hours after the day-before reminder's time
    await book(world, start)
    assert [r.offset for r in await relay.planned()] == [2 * HOUR]
    await relay.run_once()
    assert sender.sent == []
    world.clock.set(start - 2 * HOUR)
    await relay.run_once()
    assert [r.offset for r, _ in sender.sent] == [2 * HOUR]


async def test_a_moved_booking_is_reminded_of_its_new_start_from_the_move_on() -> None:
    world = World(practitioners=[reminded()])
    sender = Sent(world)
    relay = relay_of(world, sender)
    starts = await slot_starts(world)
    start, later = starts[20], starts[-1]
    booking = await book(world, start)
    world.clock.set(start - timedelta(hours=24))
    assert await relay.run_once() == (1, 0)  # the day-before reminder of the first start
    await world.service.reschedule_for_practitioner(booking.id, later)
    planned = [(r.slot_start, r.offset) for r in await relay.planned()]
    assert planned == [(later, timedelta(hours=24)), (later, 2 * HOUR)]  # the old start's counts not
    world.clock.set(later - 3 * HOUR)
    last_minute = later + HOUR  # moved inside the day-before window: that reminder's time has passed
    await world.service.reschedule_for_practitioner(booking.id, last_minute)
    assert [(r.slot_start, r.offset) for r in await relay.planned()] == [(last_minute, 2 * HOUR)]
    assert await relay.run_once() == (0, 0)


async def test_a_reminder_missed_while_down_goes_late_but_never_after_the_start() -> None:
    world = World(practitioners=[reminded((timedelta(hours=24),))])
    sender = Sent(world)
    relay = relay_of(world, sender)
    starts = await slot_starts(world)
    first, second = starts[20], starts[22]  # the same day, two hours apart
    await book(world, first)
    late = await book(world, second)
    world.clock.set(first)  # down from before the first's reminder until its session started
    await relay.run_once()
    assert [(r.booking_id, at) for r, at in sender.sent] == [(late.id, first)]  # the second's, late


async def test_a_cancelled_booking_is_not_reminded() -> None:
    world = World(practitioners=[reminded()])
    sender = Sent(world)
    relay = relay_of(world, sender)
    start = (await slot_starts(world))[20]
    booking = await book(world, start)
    world.clock.set(start - timedelta(hours=24))
    await relay.run_once()
    await world.service.cancel_booking(booking.id, world.service.ids.cancel_token(booking.id))
    assert await relay.planned() == []
    world.clock.set(start - 2 * HOUR)
    await relay.run_once()
    assert [r.offset for r, _ in sender.sent] == [timedelta(hours=24)]


async def test_a_failed_reminder_is_retried_after_the_delay() -> None:
    world = World(practitioners=[reminded((2 * HOUR,))])
    sender = Sent(world)
    relay = relay_of(world, sender)
    start = (await slot_starts(world))[20]
    booking = await book(world, start)
    sender.failing.add(booking.id)
    world.clock.set(start - 2 * HOUR)
    assert await relay.run_once() == (0, 1)
    sender.failing.clear()
    world.clock.advance(RETRY_DELAY - timedelta(seconds=1))
    assert await relay.run_once() == (0, 0)
    world.clock.advance(timedelta(seconds=1))
    assert await relay.run_once() == (1, 0)
    assert len(sender.sent) == 1


async def test_two_relays_racing_send_each_reminder_once() -> None:
    world = World(practitioners=[reminded((timedelta(hours=24),))])
    sender = Sent(world)
    first, second = relay_of(world, sender), relay_of(world, sender)
    second.ledger = first.ledger  # one ledger: the same data, as two workers share a database
    starts = (await slot_starts(world))[10:15]  # one day's
    booked = [await book(world, start) for start in starts]
    world.clock.set(min(starts) - timedelta(minutes=1))  # every booking's reminder is due
    results = await asyncio.gather(*(relay.run_once() for relay in (first, second, first, second)))
    assert sum(sent for sent, _ in results) == len(booked)
    keys = [(r.booking_id, r.offset) for r, _ in sender.sent]
    assert len(keys) == len(set(keys))


@given(st.data())
def test_over_any_timeline_each_reminder_goes_at_most_once_and_only_when_due(data: st.DataObject) -> None:
    """Bookings made, cancelled and the relay run at random times, with outages (long steps): every
    reminder sent was due and its booking confirmed then, none twice; and every reminder whose
    booking was confirmed at some run between its time and its start was sent."""

    async def scenario() -> None:
        offsets = tuple(data.draw(st.lists(st.sampled_from([24 * HOUR, 2 * HOUR, HOUR / 2]), min_size=1)))
        world = World(practitioners=[reminded(offsets)])
        sender = Sent(world)
        relay = relay_of(world, sender)
        chances: dict[tuple[str, timedelta], bool] = {}  # (booking, offset) -> a run could send it
        for _ in range(data.draw(st.integers(5, 40))):
            step = data.draw(st.sampled_from(["book", "book", "cancel", "wait", "to the next", "run", "run"]))
            live = [b for b in world.store.all_bookings() if b.status is BookingStatus.CONFIRMED]
            if step == "book":
                ahead = await slot_starts(world, days=2)
                if ahead:
                    await book(world, data.draw(st.sampled_from(ahead)))
            elif step == "cancel" and live:
                victim = data.draw(st.sampled_from(live))
                if victim.slot.start > world.clock.now():
                    await world.service.cancel_booking(victim.id, world.service.ids.cancel_token(victim.id))
            elif step == "wait":
                world.clock.advance(data.draw(st.integers(1, 12 * 12)) * timedelta(minutes=5))
            elif step == "to the next":  # a reminder's time, or a little after
                planned = await relay.planned()
                if planned:
                    late = data.draw(st.integers(0, 12)) * timedelta(minutes=5)
                    world.clock.set(max(world.clock.now(), planned[0].due_at + late))
            else:
                now = world.clock.now()
                for booking in live:
                    history = await world.store.history(booking.id)
                    for reminder in planned_reminders(booking, placed_at(history), offsets):
                        chances[(booking.id, reminder.offset)] = chances.get(
                            (booking.id, reminder.offset), False
                        ) or reminder.is_due(now)
                await relay.run_once(limit=1000)
        keys = [(r.booking_id, r.offset) for r, _ in sender.sent]
        assert len(keys) == len(set(keys))
        for reminder, at in sender.sent:
            assert reminder.is_due(at)
        event(f"sent: {min(len(keys), 3)}+")
        assert {key for key, chance in chances.items() if chance} == set(keys)

    asyncio.run(scenario())


async def test_a_relay_looks_at_most_every_so_often_unless_its_last_look_was_full() -> None:
    world = World(practitioners=[reminded((timedelta(hours=24),))])
    sender = Sent(world)
    relay = evolve(relay_of(world, sender), every=timedelta(seconds=10))
    starts = (await slot_starts(world))[10:14]  # one day's
    for start in starts:
        await book(world, start)
    world.clock.set(starts[2] - timedelta(hours=24))  # three due
    assert await relay.run_once(limit=1) == (1, 0)  # a full batch: looks again at once
    assert await relay.run_once(limit=1) == (1, 0)
    assert await relay.run_once(limit=5) == (1, 0)
    world.clock.set(starts[3] - timedelta(hours=24, seconds=5))
    assert await relay.run_once() == (0, 0)  # looked: nothing due
    world.clock.advance(timedelta(seconds=5))
    assert await relay.run_once() == (0, 0)  # due now, but the relay rests 10 seconds
    world.clock.advance(timedelta(seconds=5))
    assert await relay.run_once() == (1, 0)
