"""The stateful contract: a state machine of random requests, payments (duplicated, reordered, late,
paid just as the checkout expires), expiries, cancellations, moves (by the client or the
practitioner), refunds in the provider's dashboard, time off taken and withdrawn, provider outages
and passing time, run through the BookingService over your store. Whatever happens, the invariants
of money and slots hold: no live booking overlaps another or the practitioner's time off,
availability offers no conflict, no day or week holds more bookings than its limit, every payment
ends as a confirmed booking or a refund, and the history accounts for
every status.

Subclass BookingMachineContract and give it a fixture `open_adapters`: a callable returning an async
context manager that yields a fresh (store, directory) pair over empty data (the directory may be
booking_adapters.memory.MemoryDirectory if you have none of your own). The machine opens one per
example in an event loop of its own, and closes it at the example's end. How many examples and
steps: `machine_settings` (the hypothesis profile's examples, 40 steps each); a slower store may
ask for fewer (tests/contract/test_ports.py does for SQL)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from attrs import define, evolve, field
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from booking_core.availability import ScheduleSource
from booking_core.booking import Booking, BookingStatus
from booking_core.booking_limits import BookingLimits
from booking_core.errors import BookingError, TimeOffConflicts
from booking_core.money import Money
from booking_core.offer import CancellationPolicy, Offer, Practitioner, Service
from booking_core.payment import PaymentEvent, PaymentEventKind
from booking_core.ports import BookingStore, PractitionerDirectory
from booking_core.schedule import LocalHours, WeeklySchedule
from booking_core.services import BookingRequest, BookingService
from booking_core.testing.doubles import FakePaymentGateway, ManualClock, RecordingNotifier, SequentialIds
from booking_core.timerange import TimeRange

T = TypeVar("T")
AdaptersFactory = Callable[[], AbstractAsyncContextManager[tuple[BookingStore, PractitionerDirectory]]]
MONDAY = datetime(2030, 1, 7, 6, 0, tzinfo=UTC)


def practitioner(pid: str = "jane", tz: str = "Europe/Berlin", **offer: object) -> Practitioner:
    """A practitioner working 09:00-12:00 and 13:00-15:00 every day in `tz`: 50 minutes at 90 EUR
    with 10 minutes after, refunds in full until a day before (half after), unless `offer` says."""
    every_day = [[LocalHours.parse("09:00-12:00"), LocalHours.parse("13:00-15:00")]] * 7
    defaults: dict[str, object] = {
        "session_length": timedelta(minutes=50),
        "price": Money(9000, "EUR"),
        "buffer_after": timedelta(minutes=10),
        "cancellation": CancellationPolicy(timedelta(hours=24), late_refund_percent=50),
    }
    return Practitioner(pid, pid.title(), Offer(**(defaults | offer)), WeeklySchedule(tz, every_day))  # type: ignore[arg-type]


def request(
    start: datetime, pid: str = "jane", key: str | None = None, service: str | None = None
) -> BookingRequest:
    """Ann's request for the slot at `start`."""
    return BookingRequest(
        pid,
        start,
        "Ann Example",
        "ann@example.com",
        "+49 30 1234567",
        idempotency_key=key,
        service_id=service,
    )


@define
class LastMomentGateway(FakePaymentGateway):
    """The fake provider, where a client may press Pay just as the service expires the checkout
    (its webhook then lost): the expire is refused because the session is complete."""

    pays_at_expiry: set[str] = field(factory=set)  # sessions whose client is about to pay
    paid_at_expiry: set[str] = field(factory=set)

    async def expire_checkout(self, session_id: str) -> PaymentEvent:
        if (
            session_id in self.pays_at_expiry
            and not self.failing
            and self.sessions[session_id].status == "open"
        ):
            self.pay(session_id)
            self.paid_at_expiry.add(session_id)
        return await super().expire_checkout(session_id)


_REFUNDING = {BookingStatus.REFUND_DUE, BookingStatus.REFUNDED}

PRACTITIONERS = [
    practitioner("jane", "Europe/Berlin"),
    practitioner(
        "sam", "America/New_York", buffer_before=timedelta(minutes=15), slot_step=timedelta(minutes=30)
    ),
    # services of different lengths, buffers, steps and notice: one conflict rule covers them all;
    # limits a day and a week, hers and the intro call's own
    evolve(
        practitioner("mia", "Europe/Berlin", slot_step=timedelta(minutes=15)),
        limits=BookingLimits(per_day=3, per_week=6),
        services=(
            Service(
                "intro",
                "Intro call",
                timedelta(minutes=15),
                Money(1000, "EUR"),
                limits=BookingLimits(per_day=1),
            ),
            Service("session", "Session", timedelta(minutes=50), Money(9000, "EUR")),
            Service(
                "double",
                "Double session",
                timedelta(minutes=100),
                Money(17000, "EUR"),
                buffer_before=timedelta(minutes=10),
                buffer_after=timedelta(minutes=20),
                min_notice=timedelta(hours=3),
                slot_step=timedelta(minutes=20),
            ),
        ),
    ),
]
SERVICES = {p.id: [s.id for s in p.offered_services] for p in PRACTITIONERS}
TIME_OFF_LENGTHS = [timedelta(minutes=30), timedelta(hours=2), timedelta(hours=9), timedelta(days=1)]
ALL_TIME = TimeRange(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


class BookingMachine(RuleBasedStateMachine):
    """The service over the store under test, the fake provider and a manual clock."""

    @staticmethod
    def open_adapters() -> AbstractAsyncContextManager[tuple[BookingStore, PractitionerDirectory]]:
        """A fresh (store, directory) pair over empty data: the contract's subclass says how."""
        raise NotImplementedError

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.opened = AsyncExitStack()
        self.store, directory = self.run(self.opened.enter_async_context(self.open_adapters()))
        for practitioner in PRACTITIONERS:
            self.run(directory.upsert(practitioner))
        self.clock = ManualClock(MONDAY)
        self.gateway = LastMomentGateway()
        self.service = BookingService(
            directory,
            self.store,
            ScheduleSource(),
            self.gateway,
            RecordingNotifier(),
            self.clock,
            SequentialIds(),
        )
        self.holds: list[tuple[str, str]] = []  # (booking id, cancel token)
        self.delivered: list[PaymentEvent] = []  # every event delivered, for redelivery
        self.paid_sessions: set[str] = set()  # sessions whose completed event has been applied
        self.unseen_payments: set[str] = set()  # paid sessions whose webhook was lost
        self.time_off: list[tuple[str, str]] = []  # (practitioner id, time off id) taken

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        try:
            self._every_lost_webhook_ends_settled()
        finally:
            try:
                self.run(self.opened.aclose())
            finally:
                self.loop.close()

    def _all_bookings(self) -> list[Booking]:
        """Every booking stored, through the port (the store may be anyone's)."""
        return [b for p in PRACTITIONERS for b in self.run(self.store.bookings_of(p.id, ALL_TIME))]

    def _every_lost_webhook_ends_settled(self) -> None:
        """Whatever happened, once the provider answers and every hold has lapsed, one
        reconciliation settles every payment whose webhook never came."""
        self.gateway.failing = False
        self.clock.advance(timedelta(days=1))
        self.run(self.service.reconcile())
        self.paid_sessions |= self.unseen_payments | self.gateway.paid_at_expiry
        self.every_payment_ends_as_a_confirmed_booking_or_a_refund()
        assert not [b.id for b in self._all_bookings() if b.payment_check_due]

    @initialize()
    def start(self) -> None:
        self.clock.advance(timedelta(hours=1))

    def _window(self) -> TimeRange:
        return TimeRange.of(self.clock.now(), timedelta(days=3))

    @rule(
        pid=st.sampled_from(sorted(SERVICES)),
        pick=st.integers(0, 40),
        offered=st.booleans(),
        key=st.booleans(),
        which=st.integers(0, 2),
    )
    def request_slot(self, pid: str, pick: int, offered: bool, key: bool, which: int) -> None:
        service = SERVICES[pid][which % len(SERVICES[pid])]
        if offered:  # a slot the page shows...
            slots = self.run(self.service.list_availability(pid, self._window(), service)).slots
            if not slots:
                return
            start = slots[pick % len(slots)].start
        else:  # ...or any quarter hour, as a racing or stale client might send
            start = self.clock.now() + timedelta(minutes=15 * pick)
        try:
            hold = self.run(
                self.service.request_booking(
                    request(start, pid, key=f"k{pick}" if key else None, service=service)
                )
            )
        except BookingError:
            return
        self.holds.append((hold.booking.id, hold.cancel_token))

    def _deliver(self, event: PaymentEvent) -> None:
        self.run(self.service.apply_payment_event(event))
        self.delivered.append(event)

    @precondition(lambda self: self.holds)
    @rule(pick=st.integers(0, 1000), wrong_amount=st.booleans(), webhook_lost=st.booleans())
    def pay(self, pick: int, wrong_amount: bool, webhook_lost: bool) -> None:
        booking_id, _ = self.holds[pick % len(self.holds)]
        booking = self.run(self.service.booking(booking_id))
        session = booking.checkout_session_id
        if session is None or self.gateway.sessions[session].status != "open":
            return
        amount = Money(booking.price.amount + 1, booking.price.currency) if wrong_amount else None
        event = self.gateway.pay(session, amount=amount)
        if webhook_lost:  # only reconciliation (or the client's return, a cancellation) can tell
            self.unseen_payments.add(session)
            return
        self.paid_sessions.add(session)
        self._deliver(event)

    @precondition(lambda self: self.holds)
    @rule(pick=st.integers(0, 1000))
    def client_pays_at_the_last_moment(self, pick: int) -> None:
        """The next time the service expires this checkout, the client has just paid."""
        booking_id, _ = self.holds[pick % len(self.holds)]
        session = self.run(self.service.booking(booking_id)).checkout_session_id
        if session is not None:
            self.gateway.pays_at_expiry.add(session)

    @precondition(lambda self: self.paid_sessions)
    @rule(pick=st.integers(0, 1000), part=st.sampled_from([100, 50, 10]))
    def refund_in_the_dashboard(self, pick: int, part: int) -> None:
        """The practitioner refunds a payment by hand (the charge's total so far), maybe twice."""
        session = self.gateway.sessions[sorted(self.paid_sessions)[pick % len(self.paid_sessions)]]
        booking = self.run(self.service.booking(session.booking_id))
        if booking.amount_paid is None or booking.status is not BookingStatus.CONFIRMED:
            return
        total = Money(booking.amount_paid.amount * part // 100, booking.amount_paid.currency)
        self._deliver(
            PaymentEvent(
                f"evt_dashboard_{session.id}_{part}",
                PaymentEventKind.REFUNDED,
                booking.id,
                refunded_total=total,
            )
        )

    @precondition(lambda self: self.holds)
    @rule(pick=st.integers(0, 1000))
    def checkout_expires(self, pick: int) -> None:
        booking_id, _ = self.holds[pick % len(self.holds)]
        session = self.run(self.service.booking(booking_id)).checkout_session_id
        # Stripe expires only open sessions (and sends that event again, as any other)
        if session is not None and self.gateway.sessions[session].status != "complete":
            self._deliver(self.gateway.expire(session))

    @precondition(lambda self: self.delivered)
    @rule(pick=st.integers(0, 1000))
    def redeliver(self, pick: int) -> None:
        """A duplicate, or (picking an older one) a reordered delivery."""
        self._deliver(self.delivered[pick % len(self.delivered)])

    @precondition(lambda self: self.holds)
    @rule(pick=st.integers(0, 1000), right_token=st.booleans())
    def cancel(self, pick: int, right_token: bool) -> None:
        booking_id, token = self.holds[pick % len(self.holds)]
        with contextlib.suppress(BookingError):
            self.run(self.service.cancel_booking(booking_id, token if right_token else "forged"))

    @precondition(lambda self: self.holds)
    @rule(
        pick=st.integers(0, 1000),
        slot=st.integers(0, 40),
        offered=st.booleans(),
        by_practitioner=st.booleans(),
        right_token=st.booleans(),
    )
    def move(self, pick: int, slot: int, offered: bool, by_practitioner: bool, right_token: bool) -> None:
        """A client (with their link, or a forged one) or the practitioner moves a booking to a
        start its service offers or to any quarter hour: the store takes the new time only if it
        is free, and a refused move leaves the booking where it was."""
        booking_id, token = self.holds[pick % len(self.holds)]
        before = self.run(self.service.booking(booking_id))
        if offered:
            window = self._window()
            slots = self.run(
                self.service.list_availability(before.practitioner_id, window, before.service_id)
            ).slots
            if not slots:
                return
            start = slots[slot % len(slots)].start
        else:
            start = self.clock.now() + timedelta(minutes=15 * slot)
        try:
            if by_practitioner:
                after = self.run(self.service.reschedule_for_practitioner(booking_id, start))
            else:
                forged = token if right_token else "forged"
                after = self.run(self.service.reschedule_booking(booking_id, forged, start))
        except BookingError as refused:
            event(f"move refused: {refused.code}")
            assert self.run(self.service.booking(booking_id)) == before
            return
        event("moved" if after != before else "move to where it was")
        assert after.slot.start == start and after.id == before.id
        unpaid, page = before.status is BookingStatus.PENDING_PAYMENT, before.checkout_session_id
        if unpaid and page is not None and self.gateway.sessions[page].paid:
            # the old page, closed by the move, was paid (its webhook lost, or just as it closed):
            # the payment confirms the booking at its new time
            # (of another amount than the price: released, and the payment goes back)
            event("paid on the old page as it moved")
            paid = self.gateway.sessions[page].amount
            kept = {BookingStatus.CONFIRMED} if paid == before.price else _REFUNDING
            assert after.status in kept and after.amount_paid == paid
        else:
            assert (after.status, after.amount_paid) == (before.status, before.amount_paid)
        if unpaid and page is not None and after.slot != before.slot:  # a new page names the new time
            assert after.checkout_session_id not in (None, page)
            assert after.replaced_checkouts == (*before.replaced_checkouts, page)

    @rule(
        pid=st.sampled_from(sorted(SERVICES)),
        quarters=st.integers(0, 4 * 12),
        length=st.sampled_from(TIME_OFF_LENGTHS),
    )
    def take_time_off(self, pid: str, quarters: int, length: timedelta) -> None:
        """Time off from any quarter hour in the next twelve (where requests go): taken exactly when no live
        booking occupies part of it, else refused naming every one that does."""
        now = self.clock.now()
        span = TimeRange.of(now + timedelta(minutes=15 * quarters), length)
        in_the_way = sorted(
            (
                b
                for b in self._all_bookings()
                if b.practitioner_id == pid and b.is_live(now) and b.occupied.overlaps(span)
            ),
            key=lambda b: (b.slot.start, b.id),
        )
        if in_the_way:
            with pytest.raises(TimeOffConflicts) as refused:
                self.run(self.service.add_time_off(pid, span, note="stateful"))
            assert refused.value.booking_ids == tuple(b.id for b in in_the_way)
            return
        taken = self.run(self.service.add_time_off(pid, span, note="stateful"))
        self.time_off.append((pid, taken.id))

    @precondition(lambda self: self.time_off)
    @rule(pick=st.integers(0, 1000), slot=st.integers(0, 1000), which=st.integers(0, 2))
    def request_during_time_off(self, pick: int, slot: int, which: int) -> None:
        """A slot the schedule has (as a stale page would show it) that reaches into time off: the
        store refuses it, whatever the availability said."""
        pid, time_off_id = self.time_off[pick % len(self.time_off)]
        (block,) = [b for b in self.run(self.store.time_off(pid, ALL_TIME)) if b.id == time_off_id]
        practitioner = next(p for p in PRACTITIONERS if p.id == pid)
        service = practitioner.service(SERVICES[pid][which % len(SERVICES[pid])])
        offer = practitioner.offer_for(service)
        starts = self.run(ScheduleSource().candidate_slots(practitioner, block.span, service=service)).starts
        if not starts:
            return
        start = sorted(starts)[slot % len(starts)]
        assert offer.occupied(TimeRange.of(start, offer.session_length)).overlaps(block.span)
        with pytest.raises(BookingError):
            self.run(self.service.request_booking(request(start, pid, service=service.id)))

    @precondition(lambda self: self.time_off)
    @rule(pick=st.integers(0, 1000))
    def withdraw_time_off(self, pick: int) -> None:
        pid, time_off_id = self.time_off.pop(pick % len(self.time_off))
        self.run(self.service.remove_time_off(pid, time_off_id))

    @rule(minutes=st.integers(1, 24 * 60))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    @rule()
    def housekeeping(self) -> None:
        self.run(self.service.reconcile())
        if not self.gateway.failing:  # only a provider outage may leave a refund owed
            owed = [b for b in self._all_bookings() if b.refund_owed and b.refund_id is None]
            assert owed == []
            # ... or a payment unaccounted for: every lost webhook's booking is settled now, unless
            # its hold is still running (then the payment may yet be reported the usual way)
            now = self.clock.now()
            self.unseen_payments |= self.gateway.paid_at_expiry
            for session_id in list(self.unseen_payments):
                booking = self.run(self.service.booking(self.gateway.sessions[session_id].booking_id))
                if not (booking.status is BookingStatus.PENDING_PAYMENT and booking.is_live(now)):
                    self.unseen_payments.discard(session_id)
                    self.paid_sessions.add(session_id)

    @rule(failing=st.booleans())
    def provider_flaps(self, failing: bool) -> None:
        self.gateway.failing = failing

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def no_two_live_bookings_overlap(self) -> None:
        now = self.clock.now()
        live = [b for b in self._all_bookings() if b.is_live(now)]
        for i, a in enumerate(live):
            for b in live[i + 1 :]:
                assert a.practitioner_id != b.practitioner_id or not a.occupied.overlaps(b.occupied), (
                    a.id,
                    b.id,
                )

    def _time_off_of(self, practitioner_id: str) -> list[TimeRange]:
        return [block.span for block in self.run(self.store.time_off(practitioner_id, ALL_TIME))]

    @invariant()
    def no_live_booking_overlaps_time_off(self) -> None:
        now = self.clock.now()
        for p in PRACTITIONERS:
            blocked = self._time_off_of(p.id)
            for booking in self._all_bookings():
                if booking.practitioner_id == p.id and booking.is_live(now):
                    assert not any(booking.occupied.overlaps(span) for span in blocked), booking.id

    @invariant()
    def availability_never_offers_a_conflict(self) -> None:
        now = self.clock.now()
        for p in PRACTITIONERS:
            live = [b.occupied for b in self._all_bookings() if b.practitioner_id == p.id and b.is_live(now)]
            live += self._time_off_of(p.id)  # a slot may no more reach into time off than a booking
            for service in p.offered_services:
                offer = p.offer_for(service)
                answer = self.run(self.service.list_availability(p.id, self._window(), service.id))
                for slot in answer.slots:
                    assert slot.duration == service.length
                    assert slot.start >= now + offer.min_notice
                    assert not any(offer.occupied(slot).overlaps(o) for o in live)

    def _live_starts(self, practitioner_id: str) -> list[tuple[datetime, str]]:
        now = self.clock.now()
        return [
            (b.slot.start, b.service_id)
            for b in self._all_bookings()
            if b.practitioner_id == practitioner_id and b.is_live(now)
        ]

    @invariant()
    def no_day_or_week_holds_more_live_bookings_than_its_limit(self) -> None:
        for p in PRACTITIONERS:
            live = self._live_starts(p.id)
            for start, service_id in live:
                for limit in p.limits_for(service_id, start):
                    counted = sum(limit.counts(other, of) for other, of in live)
                    assert counted <= limit.most, (p.id, limit, counted)

    @invariant()
    def availability_offers_no_slot_on_a_day_or_week_at_its_limit(self) -> None:
        for p in PRACTITIONERS:
            if not any(p.has_limits(s.id) for s in p.offered_services):
                continue
            live = self._live_starts(p.id)
            for service in p.offered_services:
                answer = self.run(self.service.list_availability(p.id, self._window(), service.id))
                for slot in answer.slots:
                    assert not any(limit.is_reached(live) for limit in p.limits_for(service.id, slot.start))

    @invariant()
    def every_payment_ends_as_a_confirmed_booking_or_a_refund(self) -> None:
        for session_id in self.paid_sessions:
            session = self.gateway.sessions[session_id]
            booking = self.run(self.service.booking(session.booking_id))
            kept = booking.status is BookingStatus.CONFIRMED
            cancelled_by_client = (
                booking.status is BookingStatus.CANCELLED and booking.amount_paid is not None
            )
            refunding = booking.refund_owed is not None
            assert kept or cancelled_by_client or refunding, booking.status
            assert not (kept and refunding)
            if booking.amount_refunded is not None and booking.amount_paid is not None:
                assert booking.amount_refunded.amount <= booking.amount_paid.amount

    @invariant()
    def history_accounts_for_every_status(self) -> None:
        for booking in self._all_bookings():
            history = self.run(self.store.history(booking.id))
            assert history[0].from_status is None
            assert all(a.to_status == b.from_status for a, b in itertools.pairwise(history))
            assert history[-1].to_status == booking.status

    @invariant()
    def one_refund_at_most_per_booking(self) -> None:
        keys = list(self.gateway.refunds)
        assert len(keys) == len(set(keys))


class BookingMachineContract:
    """The booking machine over your store. Fixture: `open_adapters` (see the module's docstring)."""

    machine_settings = settings(stateful_step_count=40)

    def test_the_invariants_hold_whatever_happens(self, open_adapters: AdaptersFactory) -> None:
        machine = type(
            "BookingMachineOverYourStore", (BookingMachine,), {"open_adapters": staticmethod(open_adapters)}
        )
        run_state_machine_as_test(machine, settings=self.machine_settings)
