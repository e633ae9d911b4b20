"""The port contracts as pytest test classes: subclass one in your own test module and provide its
fixture, and your adapter is checked against the same behaviour as ours.

    class TestMyStore(BookingStoreContract):
        @pytest.fixture
        async def store(self) -> AsyncIterator[BookingStore]:
            ...yield an empty store...

`BookingStoreContract` and `OutboxContract` take a fixture `store` (for the outbox: an object that is
both BookingStore and Outbox, `StoreWithOutbox`, since events enter the outbox with the store's changes);
`PractitionerDirectoryContract` takes `directory`; `PractitionerRemovalContract` takes `adapters`, a
(store, directory) pair over the same data. Each test gets a fresh, empty instance. Async tests run
on anyio (its pytest plugin ships with anyio).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import anyio
import pytest
from attrs import evolve
from hypothesis import HealthCheck, given, settings

from booking_core.booking import Booking, BookingEvent, BookingStatus, Transition, Trigger
from booking_core.booking_limits import BookingLimit, BookingLimits, Period
from booking_core.client import ClientDetails
from booking_core.errors import (
    BookingLimitReached,
    ConcurrentUpdate,
    NotFound,
    PractitionerHasLiveBookings,
    PractitionerRemoved,
    SlotUnavailable,
    TooManyFreeBookings,
    TooManyHolds,
)
from booking_core.hold_limits import FreeBookingCaps, HoldCaps
from booking_core.money import Money
from booking_core.offer import (
    DEFAULT_SERVICE_ID,
    DEFAULT_SERVICE_NAME,
    CancellationPolicy,
    Offer,
    Practitioner,
    ReschedulePolicy,
    Service,
)
from booking_core.payment import CheckoutSession, ReceivedPayment
from booking_core.ports import BookingStore, Outbox, PractitionerDirectory
from booking_core.schedule import DateOverride, LocalHours, WeeklySchedule
from booking_core.testing.fields import differing_fields, fields_left_at_default
from booking_core.testing.strategies import practitioners
from booking_core.testing.transitions import take
from booking_core.timerange import TimeRange

NOW = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)
DAY = datetime(2030, 1, 8, 0, 0, tzinfo=UTC)  # the day the sample slots are on
HOLD = timedelta(minutes=30)
PRICE = Money(9000, "EUR")
FREE = Money(0, "EUR")
ANN = ClientDetails("Ann Example", "ann@example.com", "+49301234567")


def assert_sets_every_field(samples: Sequence[object], name: str) -> None:
    """Fail, naming them, if the samples leave optional fields at their defaults (each field needs
    another value in at least one of them): an adapter that forgot such a field would read the
    default back, equal by chance, and pass."""
    left = fields_left_at_default(*samples)
    assert not left, f"{name} leaves {', '.join(left)} at the default; give each another value"


def assert_reads_back(written: object, read: object, how: str) -> None:
    """Fail, naming each field, if what the adapter read back after `how` differs from what was written."""
    lost = differing_fields(written, read)
    shown = "; ".join(f"{path}: wrote {wrote!r}, read {got!r}" for path, (wrote, got) in lost.items())
    assert not lost, f"after {how}, {', '.join(lost)} did not round-trip ({shown})"


class StoreWithOutbox(BookingStore, Outbox, Protocol):
    """A store whose changes enter its outbox in the same transaction (what OutboxContract checks)."""


async def stored(store: BookingStore, booking_id: str) -> Booking:
    """The booking `booking_id`, which the test has stored."""
    booking = await store.get(booking_id)
    assert booking is not None, f"{booking_id} is not stored"
    return booking


def hold(
    booking_id: str,
    start_minute: int,
    *,
    length: int = 50,
    before: int = 0,
    after: int = 0,
    practitioner_id: str = "pr-a",
    at: datetime = NOW,
    idempotency_key: str | None = None,
    client: ClientDetails = ANN,
    client_address: str | None = None,
    request_hash: str | None = None,
    service_id: str = DEFAULT_SERVICE_ID,
    service_name: str = DEFAULT_SERVICE_NAME,
    price: Money = PRICE,
) -> tuple[Booking, BookingEvent]:
    """A new hold on a slot starting `start_minute` after midnight of DAY, with buffers in minutes
    (at a `price` of 0: a free booking, confirmed as it is made)."""
    slot = TimeRange.of(DAY + timedelta(minutes=start_minute), timedelta(minutes=length))
    return Booking.hold(
        booking_id=booking_id,
        practitioner_id=practitioner_id,
        slot=slot,
        occupied=slot.widen(timedelta(minutes=before), timedelta(minutes=after)),
        client=client,
        client_timezone="Europe/Berlin",
        price=price,
        hold_expires_at=at + HOLD,
        cancel_token=f"token-{booking_id}",
        now=at,
        idempotency_key=idempotency_key,
        client_address=client_address,
        request_hash=request_hash,
        service_id=service_id,
        service_name=service_name,
    )


def _moved_with_new_checkout(booking: Booking, at: datetime) -> Transition:
    """An unpaid hold moved an hour later, with a checkout naming its new time."""
    later = TimeRange.of(booking.slot.start + timedelta(hours=1), booking.slot.duration)
    checkout = CheckoutSession("cs_fake_moved", "https://pay.invalid/cs_fake_moved")
    offer = Offer(booking.slot.duration, booking.price)
    return booking.reschedule(
        later, offer=offer, at=at, reason="contract: moved", by_practitioner=True, checkout=checkout
    )


def caps(per_client: int = 2, practitioner: int = 100, centre_minute: int = 12 * 60) -> HoldCaps:
    """Caps for a hold near `centre_minute` after midnight of DAY: the practitioner's holds are
    counted in the week centred there."""
    centre, half = DAY + timedelta(minutes=centre_minute), timedelta(days=3.5)
    return HoldCaps(per_client, practitioner, TimeRange(centre - half, centre + half), HOLD)


def day_limit(most: int, *, day: int = 0, service_id: str | None = None) -> BookingLimit:
    """A limit of `most` bookings over the UTC day `day` days after DAY (of `service_id` only)."""
    start = DAY + timedelta(days=day)
    return BookingLimit(TimeRange(start, start + timedelta(days=1)), most, Period.DAY, service_id)


def client(number: int) -> ClientDetails:
    """A client of its own: neither e-mail nor phone shared with another number's."""
    return ClientDetails(f"Client {number}", f"client{number}@example.com", f"+4930123{number:04d}")


def slots_of(start_minute: int, count: int) -> list[int]:
    """`count` consecutive 50-minute slots from `start_minute`."""
    return [start_minute + 50 * index for index in range(count)]


def transition(booking: Booking, trigger: Trigger, at: datetime) -> tuple[Booking, BookingEvent]:
    after, event = take(booking, trigger, at, reason=f"contract: {trigger}")
    assert event is not None
    return after, event


class BookingStoreContract:
    """Every behaviour of booking_core.ports.BookingStore. Fixture: `store`, empty."""

    pytestmark = pytest.mark.anyio

    async def test_a_stored_booking_reads_back_equal(self, store: BookingStore) -> None:
        booking, event = hold(
            "b1", 9 * 60, before=5, after=10, idempotency_key="key-1", client_address="2001:db8:1:2::/64"
        )
        await store.add_if_free(booking, event)
        assert await store.get("b1") == booking
        assert await store.get("missing") is None

    async def test_every_field_round_trips(self, store: BookingStore) -> None:
        """Every field of Booking (nested ones too) reads back as written, after each write path: the
        insert of a hold, a save without a transition, and saves of transitions. When Booking gains a
        field, give it another value than its default in at least one state of this life (the first
        assertion names a field that has none)."""
        # (what, minutes after NOW, the change: a save without a transition or one of a transition)
        paid = ReceivedPayment(PRICE, "pi_fake_all", None)
        session = CheckoutSession("cs_fake_all", "https://pay.invalid/cs_fake_all")
        steps: list[tuple[str, int, Callable[[Booking, datetime], Transition]]] = [
            ("a save without a transition", 1, lambda b, at: (b.attach_checkout(session, at=at), None)),
            ("a save of rescheduled, its checkout replaced", 2, _moved_with_new_checkout),
            (
                "a save of hold_released",
                3,
                lambda b, at: b.release(at=at, reason="contract: lapsed", check_due=True),
            ),
            (
                "a save of payment_confirmed",
                5,
                lambda b, at: b.confirm_payment(paid, at=at, reason="contract: late payment"),
            ),
            (
                "a save of rescheduled",
                6,
                lambda b, at: take(b, Trigger.RESCHEDULED, at, "contract: moved"),
            ),
            (
                "a save of a calendar uid",
                7,
                lambda b, at: (b.record_calendar_uid("uid-all", at=at), None),
            ),
            (
                "a save of cancelled",
                9,
                lambda b, at: b.cancel_by_practitioner(at=at, reason="contract: cancelled"),
            ),
            (
                "a save of refund_issued",
                10,
                lambda b, at: b.record_refund(
                    refund_id="re_fake_all", amount=Money(9000, "EUR"), at=at, reason="contract: refund"
                ),
            ),
        ]
        held, placed = hold(
            "b1",
            9 * 60,
            before=5,
            after=10,
            idempotency_key="key-every-field",
            client_address="2001:db8:1:2::/64",  # erased when the hold ends: set in `held` only
            request_hash="0" * 64,
            service_id="double-session",
            service_name="Double session",
        )
        states, saves, events = [held], [], [placed]
        for what, minutes, step in steps:
            before = states[-1]
            after, event = step(before, NOW + timedelta(minutes=minutes))
            states.append(after)
            saves.append((what, before, after, event))
            events += [event] if event else []
        assert_sets_every_field(states, "the booking's life in test_every_field_round_trips")
        assert_sets_every_field(events, "the events of test_every_field_round_trips")
        await store.add_if_free(held, placed)
        assert_reads_back(held, await store.get("b1"), "add_if_free of a hold")
        for what, before, after, event in saves:
            await store.save(before, after, event)
            assert_reads_back(after, await store.get("b1"), what)
            if event is not None:
                assert_reads_back(event, (await store.history("b1"))[-1], f"the history of {what}")

    async def test_an_overlapping_live_booking_is_refused(self, store: BookingStore) -> None:
        await store.add_if_free(*hold("b1", 9 * 60))
        with pytest.raises(SlotUnavailable) as refused:
            await store.add_if_free(*hold("b2", 9 * 60 + 49))
        assert refused.value.message == SlotUnavailable().message  # the core's words, in every store
        assert await store.get("b2") is None
        assert await store.history("b2") == []

    async def test_touching_bookings_do_not_overlap(self, store: BookingStore) -> None:
        await store.add_if_free(*hold("b1", 9 * 60))
        await store.add_if_free(*hold("b2", 9 * 60 + 50))
        await store.add_if_free(*hold("b3", 9 * 60 - 50))
        assert {b.status for b in [await store.get(i) for i in ("b1", "b2", "b3")] if b} == {
            BookingStatus.PENDING_PAYMENT
        }

    async def test_buffers_are_part_of_the_occupied_span(self, store: BookingStore) -> None:
        await store.add_if_free(*hold("b1", 9 * 60, after=10))
        with pytest.raises(SlotUnavailable):  # starts when b1's slot ends, inside its buffer
            await store.add_if_free(*hold("b2", 9 * 60 + 50))
        with pytest.raises(SlotUnavailable):  # ends before b1 starts, but its own buffer reaches in
            await store.add_if_free(*hold("b3", 8 * 60, after=15))
        await store.add_if_free(*hold("b4", 10 * 60))

    async def test_bookings_of_different_services_conflict_by_their_occupied_spans(
        self, store: BookingStore
    ) -> None:
        """One rule for every service of a practitioner: occupied spans (slot plus that booking's
        own buffers) must not overlap, whatever services the bookings are of."""
        intro: dict[str, Any] = {"length": 15, "service_id": "intro", "service_name": "Free intro call"}
        await store.add_if_free(*hold("b1", 9 * 60, **intro))  # occupies 09:00-09:15
        await store.add_if_free(*hold("b2", 8 * 60, after=10))  # a session: 08:00-09:00, touching
        with pytest.raises(SlotUnavailable):  # a session whose buffer before reaches into the call
            await store.add_if_free(*hold("b3", 9 * 60 + 20, before=10))
        with pytest.raises(SlotUnavailable):  # a call inside the session's buffer after
            await store.add_if_free(*hold("b4", 8 * 60 + 55, length=5, service_id="intro"))
        await store.add_if_free(*hold("b5", 9 * 60 + 25, before=10))  # 09:15-10:15: touching
        assert [(await stored(store, b)).service_id for b in ("b1", "b2", "b5")] == [
            "intro",
            DEFAULT_SERVICE_ID,
            DEFAULT_SERVICE_ID,
        ]
        assert await store.get("b3") is None
        assert await store.get("b4") is None

    async def test_other_practitioners_do_not_conflict(self, store: BookingStore) -> None:
        await store.add_if_free(*hold("b1", 9 * 60, practitioner_id="pr-a"))
        await store.add_if_free(*hold("b2", 9 * 60, practitioner_id="pr-b"))
        assert (await stored(store, "b2")).practitioner_id == "pr-b"

    async def test_released_bookings_do_not_block(self, store: BookingStore) -> None:
        booking, event = hold("b1", 9 * 60)
        await store.add_if_free(booking, event)
        await store.save(booking, *transition(booking, Trigger.CANCELLED, NOW + timedelta(minutes=1)))
        await store.add_if_free(*hold("b2", 9 * 60, at=NOW + timedelta(minutes=2)))

    async def test_a_hold_blocks_until_it_lapses(self, store: BookingStore) -> None:
        await store.add_if_free(*hold("b1", 9 * 60))
        with pytest.raises(SlotUnavailable):
            await store.add_if_free(*hold("b2", 9 * 60, at=NOW + HOLD - timedelta(microseconds=1)))

    async def test_a_lapsed_hold_is_released_for_a_new_booking(self, store: BookingStore) -> None:
        first, event = hold("b1", 9 * 60)
        await store.add_if_free(first, event)
        await store.add_if_free(*hold("b2", 9 * 60 + 30, at=NOW + HOLD))  # lapsed at exactly expiry
        released = await store.get("b1")
        assert released is not None
        assert released.status is BookingStatus.EXPIRED
        assert released.payment_check_due  # released without asking the payment provider
        assert released.version == first.version + 1
        assert released.updated_at == NOW + HOLD
        last = (await store.history("b1"))[-1]
        assert (last.trigger, last.from_status, last.to_status, last.at) == (
            Trigger.HOLD_RELEASED,
            BookingStatus.PENDING_PAYMENT,
            BookingStatus.EXPIRED,
            NOW + HOLD,
        )

    async def test_only_lapsed_holds_in_the_way_are_released(self, store: BookingStore) -> None:
        await store.add_if_free(*hold("b1", 9 * 60))
        await store.add_if_free(*hold("b2", 12 * 60))
        await store.add_if_free(*hold("b3", 9 * 60, at=NOW + HOLD))
        assert (await stored(store, "b2")).status is BookingStatus.PENDING_PAYMENT

    async def test_save_compares_the_version(self, store: BookingStore) -> None:
        booking, event = hold("b1", 9 * 60)
        await store.add_if_free(booking, event)
        confirmed, event1 = transition(booking, Trigger.PAYMENT_CONFIRMED, NOW + timedelta(minutes=1))
        await store.save(booking, confirmed, event1)
        cancelled, event2 = transition(booking, Trigger.CANCELLED, NOW + timedelta(minutes=2))
        with pytest.raises(ConcurrentUpdate):  # `booking` is stale: version 1, stored 2
            await store.save(booking, cancelled, event2)
        assert await store.get("b1") == confirmed
        assert [e.trigger for e in await store.history("b1")] == [
            Trigger.HOLD_PLACED,
            Trigger.PAYMENT_CONFIRMED,
        ]

    async def test_saving_an_unknown_booking_is_a_concurrent_update(self, store: BookingStore) -> None:
        booking, _ = hold("b1", 9 * 60)
        with pytest.raises(ConcurrentUpdate):
            await store.save(booking, *transition(booking, Trigger.CANCELLED, NOW))

    async def test_a_late_payment_reconfirms_a_free_slot(self, store: BookingStore) -> None:
        booking, event = hold("b1", 9 * 60)
        await store.add_if_free(booking, event)
        expired, event1 = transition(booking, Trigger.HOLD_RELEASED, NOW + HOLD)
        await store.save(booking, expired, event1)
        confirmed, event2 = transition(expired, Trigger.PAYMENT_CONFIRMED, NOW + HOLD + timedelta(minutes=5))
        await store.save(expired, confirmed, event2)
        assert (await stored(store, "b1")).status is BookingStatus.CONFIRMED

    async def test_a_late_payment_cannot_take_a_slot_taken_meanwhile(self, store: BookingStore) -> None:
        booking, event = hold("b1", 9 * 60)
        await store.add_if_free(booking, event)
        await store.add_if_free(*hold("b2", 9 * 60 + 20, at=NOW + HOLD))  # releases b1
        expired = await stored(store, "b1")
        confirmed, event2 = transition(expired, Trigger.PAYMENT_CONFIRMED, NOW + HOLD + timedelta(minutes=5))
        with pytest.raises(SlotUnavailable):
            await store.save(expired, confirmed, event2)
        assert await store.get("b1") == expired
        assert (await store.history("b1"))[-1].trigger is Trigger.HOLD_RELEASED

    async def test_a_late_payment_releases_a_lapsed_hold_in_its_way(self, store: BookingStore) -> None:
        booking, event = hold("b1", 9 * 60)
        await store.add_if_free(booking, event)
        expired, event1 = transition(booking, Trigger.HOLD_RELEASED, NOW + timedelta(minutes=1))
        await store.save(booking, expired, event1)
        await store.add_if_free(*hold("b2", 9 * 60, at=NOW + timedelta(minutes=2)))
        late = NOW + timedelta(minutes=2) + HOLD
        confirmed, event2 = transition(expired, Trigger.PAYMENT_CONFIRMED, late)
        await store.save(expired, confirmed, event2)
        assert (await stored(store, "b2")).status is BookingStatus.EXPIRED
        assert (await stored(store, "b2")).payment_check_due
        assert (await stored(store, "b1")).status is BookingStatus.CONFIRMED

    async def test_find_by_idempotency_key_is_per_practitioner(self, store: BookingStore) -> None:
        booking, event = hold("b1", 9 * 60, idempotency_key="k")
        await store.add_if_free(booking, event)
        assert await store.find_by_idempotency_key("pr-a", "k") == booking
        assert await store.find_by_idempotency_key("pr-b", "k") is None
        assert await store.find_by_idempotency_key("pr-a", "other") is None

    async def test_an_idempotency_key_holds_one_booking_per_practitioner(self, store: BookingStore) -> None:
        await store.add_if_free(*hold("b1", 9 * 60, idempotency_key="k"))
        with pytest.raises(SlotUnavailable):  # a racing twin: the service then replays the winner
            await store.add_if_free(*hold("b2", 12 * 60, idempotency_key="k"))
        await store.add_if_free(*hold("b3", 9 * 60, idempotency_key="k", practitioner_id="pr-b"))

    async def test_busy_lists_live_occupied_spans_in_a_window(self, store: BookingStore) -> None:
        await store.add_if_free(*hold("b1", 11 * 60, after=10))
        early, event = hold("b2", 9 * 60, before=5)
        await store.add_if_free(early, event)
        await store.add_if_free(*hold("b3", 13 * 60, at=NOW - HOLD))  # lapsed by NOW
        await store.add_if_free(*hold("b4", 9 * 60, practitioner_id="pr-b"))
        await store.add_if_free(*hold("b5", 20 * 60))  # outside the window
        window = TimeRange(DAY + timedelta(hours=8), DAY + timedelta(hours=14))
        busy = await store.busy("pr-a", window, NOW)
        assert busy == [
            TimeRange(DAY + timedelta(minutes=9 * 60 - 5), DAY + timedelta(minutes=9 * 60 + 50)),
            TimeRange(DAY + timedelta(minutes=11 * 60), DAY + timedelta(minutes=12 * 60)),
        ]
        confirmed, event2 = transition(early, Trigger.PAYMENT_CONFIRMED, NOW)
        await store.save(early, confirmed, event2)
        assert await store.busy("pr-a", window, NOW + timedelta(days=1)) == busy[:1]

    async def test_lapsed_holds_oldest_first(self, store: BookingStore) -> None:
        for index, minutes_ago in enumerate((40, 90, 60, 0)):
            await store.add_if_free(
                *hold(f"b{index}", (9 + index) * 60, at=NOW - timedelta(minutes=minutes_ago))
            )
        confirmed_later, event = hold("b9", 15 * 60, at=NOW - timedelta(hours=2))
        await store.add_if_free(confirmed_later, event)
        await store.save(confirmed_later, *transition(confirmed_later, Trigger.PAYMENT_CONFIRMED, NOW))
        lapsed = await store.lapsed_holds(NOW)
        assert [b.id for b in lapsed] == ["b1", "b2", "b0"]
        assert [b.id for b in await store.lapsed_holds(NOW, limit=2)] == ["b1", "b2"]

    async def test_payment_checks_due_lists_flagged_bookings_least_recently_changed_first(
        self, store: BookingStore
    ) -> None:
        for index in range(3):
            await store.add_if_free(*hold(f"b{index}", (9 + index) * 60))
        at = NOW + HOLD
        await store.add_if_free(*hold("n1", 10 * 60, at=at))  # releases b1 in its way
        await store.add_if_free(*hold("n0", 9 * 60, at=at + timedelta(minutes=1)))  # and b0
        assert [b.id for b in await store.payment_checks_due()] == ["b1", "b0"]
        assert [b.id for b in await store.payment_checks_due(limit=1)] == ["b1"]
        checked = await stored(store, "b1")
        await store.save(checked, checked.clear_payment_check(at=at + timedelta(minutes=2)), None)
        assert [b.id for b in await store.payment_checks_due()] == ["b0"]
        assert not (await stored(store, "b2")).payment_check_due  # not in the way: untouched

    async def test_refunds_due_are_owed_and_not_issued(self, store: BookingStore) -> None:
        owed = Money(9000, "EUR")
        for index in range(3):
            booking, event = hold(f"b{index}", (9 + index) * 60)
            await store.add_if_free(booking, event)
            at = NOW + timedelta(minutes=10 - index)
            paid, event1 = transition(booking, Trigger.PAYMENT_CONFIRMED, at)
            await store.save(booking, paid, event1)
            cancelled, event2 = transition(paid, Trigger.CANCELLED, at)  # by the practitioner: owes all
            assert cancelled.refund_owed == owed
            await store.save(paid, cancelled, event2)
        settled = await stored(store, "b0")
        await store.save(settled, *transition(settled, Trigger.REFUND_ISSUED, NOW + timedelta(hours=1)))
        assert [b.id for b in await store.refunds_due()] == ["b2", "b1"]
        assert [b.id for b in await store.refunds_due(limit=1)] == ["b2"]

    async def test_sessions_ended_are_confirmed_ones_whose_slot_is_over_earliest_end_first(
        self, store: BookingStore
    ) -> None:
        for index, start in enumerate((11 * 60, 9 * 60, 10 * 60, 13 * 60)):
            booking, event = hold(f"b{index}", start)
            await store.add_if_free(booking, event)
            await store.save(booking, *transition(booking, Trigger.PAYMENT_CONFIRMED, NOW))
        await store.add_if_free(*hold("unpaid", 8 * 60))
        cancelled = await stored(store, "b3")
        await store.save(cancelled, *transition(cancelled, Trigger.CANCELLED, NOW))
        end_of_b0 = DAY + timedelta(minutes=11 * 60 + 50)
        assert [b.id for b in await store.sessions_ended(end_of_b0)] == ["b1", "b2", "b0"]
        assert [b.id for b in await store.sessions_ended(end_of_b0, limit=2)] == ["b1", "b2"]
        assert [b.id for b in await store.sessions_ended(end_of_b0 - timedelta(seconds=1))] == ["b1", "b2"]
        done = await stored(store, "b1")
        await store.save(done, *transition(done, Trigger.COMPLETED, end_of_b0))
        missed = await stored(store, "b2")
        await store.save(missed, *transition(missed, Trigger.NO_SHOW_MARKED, end_of_b0))
        assert [b.id for b in await store.sessions_ended(end_of_b0)] == ["b0"]
        assert (await stored(store, "b1")).status is BookingStatus.COMPLETED
        assert (await stored(store, "b2")).status is BookingStatus.NO_SHOW

    async def test_history_keeps_every_event_in_order(self, store: BookingStore) -> None:
        booking, event = hold("b1", 9 * 60)
        await store.add_if_free(booking, event)
        confirmed, event1 = transition(booking, Trigger.PAYMENT_CONFIRMED, NOW + timedelta(minutes=1))
        await store.save(booking, confirmed, event1)
        details = confirmed.record_calendar_uid("uid", at=NOW + timedelta(minutes=2))
        await store.save(confirmed, details, None)  # not a transition: no event
        cancelled, event2 = transition(details, Trigger.CANCELLED, NOW + timedelta(minutes=3))
        await store.save(details, cancelled, event2)
        assert await store.history("b1") == [event, event1, event2]

    # -- caps of live unpaid holds (booking_core.hold_limits) --------------------------------------

    async def test_caps_count_unpaid_holds_per_email_ignoring_case(self, store: BookingStore) -> None:
        shouting = ClientDetails("Ann", "ANN@Example.com", "+4930999999")
        await store.add_if_free(*hold("b1", 9 * 60), caps())
        await store.add_if_free(
            *hold("b2", 10 * 60, client=evolve(client(2), email="Ann@example.com")), caps()
        )
        with pytest.raises(TooManyHolds) as refused:
            await store.add_if_free(*hold("b3", 11 * 60, client=shouting), caps())
        assert refused.value.limit == "email"
        assert await store.get("b3") is None and await store.history("b3") == []
        await store.add_if_free(*hold("b4", 11 * 60, client=shouting), caps(per_client=3))

    async def test_caps_count_unpaid_holds_per_phone(self, store: BookingStore) -> None:
        for index, minute in enumerate(slots_of(9 * 60, 2)):
            await store.add_if_free(
                *hold(f"b{index}", minute, client=evolve(client(index), phone="+4930555"))
            )
        with pytest.raises(TooManyHolds) as refused:
            await store.add_if_free(*hold("b9", 12 * 60, client=evolve(client(9), phone="+4930555")), caps())
        assert refused.value.limit == "phone"

    async def test_caps_count_unpaid_holds_per_client_address_when_known(self, store: BookingStore) -> None:
        network = "2001:db8:1:2::/64"
        for index, minute in enumerate(slots_of(9 * 60, 2)):
            await store.add_if_free(*hold(f"b{index}", minute, client=client(index), client_address=network))
        with pytest.raises(TooManyHolds) as refused:
            await store.add_if_free(*hold("b8", 12 * 60, client=client(8), client_address=network), caps())
        assert refused.value.limit == "client_address"
        await store.add_if_free(*hold("b9", 12 * 60, client=client(9), client_address="192.0.2.1"), caps())
        for index, minute in enumerate(slots_of(13 * 60, 3), start=10):  # unknown addresses: not counted
            await store.add_if_free(*hold(f"b{index}", minute, client=client(index)), caps())

    async def test_caps_count_a_practitioners_unpaid_holds_within_the_window(
        self, store: BookingStore
    ) -> None:
        for index, minute in enumerate(slots_of(9 * 60, 3)):
            await store.add_if_free(*hold(f"b{index}", minute, client=client(index)), caps(practitioner=3))
        with pytest.raises(TooManyHolds) as refused:
            await store.add_if_free(*hold("b5", 12 * 60, client=client(5)), caps(practitioner=3))
        assert refused.value.limit == "practitioner"
        later = 12 * 60 + 4 * 24 * 60  # the week centred there holds none of the three
        await store.add_if_free(
            *hold("b6", later, client=client(6)), caps(practitioner=3, centre_minute=later)
        )
        await store.add_if_free(
            *hold("b7", 12 * 60, client=client(7), practitioner_id="pr-b"), caps(practitioner=3)
        )

    async def test_caps_ignore_lapsed_paid_and_released_holds(self, store: BookingStore) -> None:
        await store.add_if_free(*hold("b1", 9 * 60, at=NOW - HOLD, client_address="192.0.2.1"))  # lapsed
        paid, event = hold("b2", 10 * 60, client_address="192.0.2.1")
        await store.add_if_free(paid, event)
        await store.save(paid, *transition(paid, Trigger.PAYMENT_CONFIRMED, NOW))
        cancelled, event = hold("b3", 11 * 60, client_address="192.0.2.1")
        await store.add_if_free(cancelled, event)
        await store.save(cancelled, *transition(cancelled, Trigger.CANCELLED, NOW))
        tight = caps(per_client=1, practitioner=1)
        await store.add_if_free(*hold("b4", 12 * 60, client_address="192.0.2.1"), tight)
        with pytest.raises(TooManyHolds):
            await store.add_if_free(*hold("b5", 13 * 60, client_address="192.0.2.1"), tight)

    async def test_without_caps_unpaid_holds_are_not_counted(self, store: BookingStore) -> None:
        for index, minute in enumerate(slots_of(9 * 60, 4)):
            await store.add_if_free(*hold(f"b{index}", minute, client_address="192.0.2.1"))
        assert len(await store.busy("pr-a", TimeRange(DAY, DAY + timedelta(days=1)), NOW)) == 4

    async def test_the_address_is_erased_when_a_hold_ends(self, store: BookingStore) -> None:
        paid, event = hold("b1", 9 * 60, client_address="192.0.2.1")
        await store.add_if_free(paid, event)
        await store.save(paid, *transition(paid, Trigger.PAYMENT_CONFIRMED, NOW))
        await store.add_if_free(*hold("b2", 10 * 60, client_address="192.0.2.1", at=NOW - HOLD))
        await store.add_if_free(*hold("b3", 10 * 60, at=NOW))  # releases the lapsed b2 in its way
        for erased in ("b1", "b2"):
            booking = await store.get(erased)
            assert booking is not None and booking.client_address is None

    # -- booking limits per day and week (booking_core.booking_limits) ------------------------------

    async def test_a_limit_refuses_a_booking_beyond_it_within_its_span(self, store: BookingStore) -> None:
        for index, minute in enumerate(slots_of(9 * 60, 2)):
            await store.add_if_free(*hold(f"b{index}", minute, client=client(index)), limits=[day_limit(2)])
        with pytest.raises(BookingLimitReached) as refused:
            await store.add_if_free(*hold("b8", 12 * 60, client=client(8)), limits=[day_limit(2)])
        assert "at most 2 bookings a day" in refused.value.message
        assert isinstance(refused.value, SlotUnavailable)  # a slot not to be had, as a taken one
        assert await store.get("b8") is None and await store.history("b8") == []
        next_day = 12 * 60 + 24 * 60  # another day's span has room
        await store.add_if_free(*hold("b9", next_day, client=client(9)), limits=[day_limit(2, day=1)])
        await store.add_if_free(*hold("b10", 12 * 60, client=client(10)), limits=[day_limit(3)])

    async def test_a_limit_counts_live_bookings_only(self, store: BookingStore) -> None:
        await store.add_if_free(*hold("lapsed", 9 * 60, at=NOW - HOLD))  # lapsed by NOW: counts no more
        cancelled, event = hold("cancelled", 10 * 60)
        await store.add_if_free(cancelled, event)
        await store.save(cancelled, *transition(cancelled, Trigger.CANCELLED, NOW))
        await store.add_if_free(*hold("pending", 11 * 60))  # a hold counts while it stands
        paid, event = hold("paid", 12 * 60, client=client(2))
        await store.add_if_free(paid, event)
        await store.save(paid, *transition(paid, Trigger.PAYMENT_CONFIRMED, NOW))
        await store.add_if_free(*hold("free", 13 * 60, client=client(3), price=FREE))
        await store.add_if_free(*hold("b1", 14 * 60, client=client(4)), limits=[day_limit(4)])
        with pytest.raises(BookingLimitReached):
            await store.add_if_free(*hold("b2", 15 * 60, client=client(5)), limits=[day_limit(4)])
        later = NOW + HOLD  # the pending hold and b1 have lapsed by then: room again
        await store.add_if_free(*hold("b3", 15 * 60, client=client(6), at=later), limits=[day_limit(4)])

    async def test_a_services_limit_counts_that_services_bookings_only(self, store: BookingStore) -> None:
        intro_limit = day_limit(1, service_id="intro")
        for index, minute in enumerate(slots_of(9 * 60, 2)):  # sessions: not the intro's to count
            await store.add_if_free(*hold(f"s{index}", minute, client=client(index), service_id="session"))
        await store.add_if_free(
            *hold("i1", 12 * 60, client=client(5), service_id="intro", length=20), limits=[intro_limit]
        )
        with pytest.raises(BookingLimitReached) as refused:
            await store.add_if_free(
                *hold("i2", 13 * 60, client=client(6), service_id="intro", length=20), limits=[intro_limit]
            )
        assert "at most 1 booking of this service a day" in refused.value.message
        with pytest.raises(BookingLimitReached):  # all three of the day count for the practitioner's
            await store.add_if_free(*hold("s3", 14 * 60, client=client(7)), limits=[day_limit(3)])

    async def test_a_late_payment_is_held_to_the_limits(self, store: BookingStore) -> None:
        booking, event = hold("late", 9 * 60)
        await store.add_if_free(booking, event)
        expired, release = transition(booking, Trigger.HOLD_RELEASED, NOW + HOLD)
        await store.save(booking, expired, release)
        for index, minute in enumerate(slots_of(11 * 60, 2), start=1):
            await store.add_if_free(*hold(f"b{index}", minute, client=client(index), at=NOW + HOLD))
        confirmed, paid = transition(expired, Trigger.PAYMENT_CONFIRMED, NOW + HOLD)
        with pytest.raises(BookingLimitReached):
            await store.save(expired, confirmed, paid, limits=[day_limit(2)])
        assert (await stored(store, "late")).status is BookingStatus.EXPIRED
        await store.save(expired, confirmed, paid, limits=[day_limit(3)])
        assert (await stored(store, "late")).status is BookingStatus.CONFIRMED

    # -- free bookings (confirmed as they are made) and their cap per client -------------------------

    async def test_a_free_booking_is_stored_confirmed_and_keeps_its_slot(self, store: BookingStore) -> None:
        booking, event = hold("b1", 9 * 60, price=FREE, client_address="192.0.2.1")
        await store.add_if_free(booking, event, FreeBookingCaps(2))
        assert await store.get("b1") == booking and booking.status is BookingStatus.CONFIRMED
        assert await store.history("b1") == [event] and event.trigger is Trigger.BOOKED_FREE
        later = NOW + timedelta(hours=2)  # no hold to lapse: still live long after one would have
        assert await store.busy("pr-a", TimeRange(DAY, DAY + timedelta(days=1)), later) == [booking.occupied]
        with pytest.raises(SlotUnavailable):
            await store.add_if_free(*hold("b2", 9 * 60, at=later))

    async def test_free_caps_count_a_clients_free_bookings_of_the_practitioner(
        self, store: BookingStore
    ) -> None:
        network = "2001:db8:1:2::/64"
        for index, minute in enumerate(slots_of(9 * 60, 2)):
            await store.add_if_free(
                *hold(f"b{index}", minute, client=client(index), client_address=network, price=FREE),
                FreeBookingCaps(2),
            )
        with pytest.raises(TooManyFreeBookings) as refused:
            await store.add_if_free(
                *hold("b8", 12 * 60, client=client(8), client_address=network, price=FREE), FreeBookingCaps(2)
            )
        assert refused.value.limit == "client_address"
        assert await store.get("b8") is None and await store.history("b8") == []
        same_email = evolve(client(9), email="CLIENT0@example.com")
        with pytest.raises(TooManyFreeBookings) as refused:
            await store.add_if_free(*hold("b9", 12 * 60, client=same_email, price=FREE), FreeBookingCaps(1))
        assert refused.value.limit == "email"
        same_phone = evolve(client(10), phone=client(1).phone)
        with pytest.raises(TooManyFreeBookings) as refused:
            await store.add_if_free(*hold("b10", 12 * 60, client=same_phone, price=FREE), FreeBookingCaps(1))
        assert refused.value.limit == "phone"
        # another practitioner's free bookings, and a higher cap, leave room
        await store.add_if_free(
            *hold(
                "b11", 12 * 60, client=client(11), practitioner_id="pr-b", client_address=network, price=FREE
            ),
            FreeBookingCaps(2),
        )
        await store.add_if_free(
            *hold("b12", 12 * 60, client=client(12), client_address=network, price=FREE), FreeBookingCaps(3)
        )

    async def test_free_caps_ignore_past_cancelled_and_paid_bookings(self, store: BookingStore) -> None:
        address = "192.0.2.1"
        past = DAY - timedelta(days=1)  # a free session of the day before, over by NOW
        await store.add_if_free(
            *hold("b1", -24 * 60, price=FREE, at=past - timedelta(days=1), client_address=address)
        )
        cancelled, event = hold("b2", 9 * 60, price=FREE, client_address=address)
        await store.add_if_free(cancelled, event)
        await store.save(cancelled, *transition(cancelled, Trigger.CANCELLED, NOW))
        paid, event = hold("b3", 10 * 60, client_address=address)
        await store.add_if_free(paid, event)
        await store.save(paid, *transition(paid, Trigger.PAYMENT_CONFIRMED, NOW))
        await store.add_if_free(*hold("b4", 11 * 60, client_address=address))  # an unpaid hold
        assert past + timedelta(minutes=50) < NOW
        await store.add_if_free(*hold("b5", 12 * 60, price=FREE, client_address=address), FreeBookingCaps(1))
        with pytest.raises(TooManyFreeBookings):
            await store.add_if_free(
                *hold("b6", 13 * 60, price=FREE, client_address=address), FreeBookingCaps(1)
            )

    async def test_payment_events_are_recorded_once(self, store: BookingStore) -> None:

        assert not await store.is_payment_event_processed("evt_1")
        await store.mark_payment_event_processed("evt_1", NOW)
        await store.mark_payment_event_processed("evt_1", NOW + timedelta(minutes=1))
        assert await store.is_payment_event_processed("evt_1")
        assert not await store.is_payment_event_processed("evt_2")


class OutboxContract:
    """Every behaviour of booking_core.ports.Outbox. Fixture: `store`, empty, both ports in one."""

    pytestmark = pytest.mark.anyio

    async def _event(self, store: StoreWithOutbox, booking_id: str, start_minute: int) -> None:
        await store.add_if_free(*hold(booking_id, start_minute))

    async def test_a_new_channel_starts_after_the_history(self, store: StoreWithOutbox) -> None:
        await self._event(store, "b1", 9 * 60)
        assert await store.claim("mail", NOW) == []
        await self._event(store, "b2", 10 * 60)
        items = await store.claim("mail", NOW)
        assert [(i.event.booking_id, i.attempts) for i in items] == [("b2", 0)]
        assert items[0].event == (await store.history("b2"))[0]

    async def test_items_come_in_order_of_seq_up_to_the_limit(self, store: StoreWithOutbox) -> None:
        await store.claim("mail", NOW)
        for index in range(4):
            await self._event(store, f"b{index}", (9 + index) * 60)
        first = await store.claim("mail", NOW, limit=3)
        assert [i.event.booking_id for i in first] == ["b0", "b1", "b2"]
        assert [i.seq for i in first] == sorted(i.seq for i in first)
        rest = await store.claim("mail", NOW, limit=3)
        assert [i.event.booking_id for i in rest] == ["b3"]
        assert rest[0].seq > first[-1].seq

    async def test_a_lease_hides_an_item_until_it_ends(self, store: StoreWithOutbox) -> None:
        await store.claim("mail", NOW)
        await self._event(store, "b1", 9 * 60)
        assert len(await store.claim("mail", NOW, lease_seconds=60)) == 1
        assert await store.claim("mail", NOW + timedelta(seconds=59)) == []
        again = await store.claim("mail", NOW + timedelta(seconds=60))
        assert [(i.event.booking_id, i.attempts) for i in again] == [("b1", 0)]

    async def test_channels_are_independent(self, store: StoreWithOutbox) -> None:
        await store.claim("mail", NOW)
        await store.claim("webhooks", NOW)
        await self._event(store, "b1", 9 * 60)
        (item,) = await store.claim("mail", NOW)
        await store.mark_delivered("mail", [item.seq], NOW)
        assert [i.seq for i in await store.claim("webhooks", NOW)] == [item.seq]

    async def test_a_delivered_item_is_not_claimed_again(self, store: StoreWithOutbox) -> None:
        await store.claim("mail", NOW)
        await self._event(store, "b1", 9 * 60)
        (item,) = await store.claim("mail", NOW)
        await store.mark_delivered("mail", [item.seq], NOW)
        assert await store.claim("mail", NOW + timedelta(hours=1)) == []
        assert await store.failures() == []

    async def test_a_batch_is_marked_delivered_at_once(self, store: StoreWithOutbox) -> None:
        await store.claim("mail", NOW)
        for index in range(3):
            await self._event(store, f"b{index}", (9 + index) * 60)
        items = await store.claim("mail", NOW)
        await store.mark_delivered("mail", [i.seq for i in items[:2]], NOW)
        await store.mark_delivered("mail", [], NOW)  # nothing delivered: nothing recorded
        later = await store.claim("mail", NOW + timedelta(hours=1))
        assert [i.event.booking_id for i in later] == ["b2"]

    async def test_a_failed_item_is_retried_when_due(self, store: StoreWithOutbox) -> None:
        await store.claim("mail", NOW)
        await self._event(store, "b1", 9 * 60)
        (item,) = await store.claim("mail", NOW)
        retry_at = NOW + timedelta(minutes=5)
        await store.mark_failed("mail", item.seq, NOW, "smtp timeout", retry_at)
        assert await store.claim("mail", NOW + timedelta(minutes=4)) == []
        (retried,) = await store.claim("mail", retry_at)
        assert (retried.seq, retried.attempts) == (item.seq, 1)
        (failure,) = await store.failures("mail")
        assert (failure.channel, failure.seq, failure.booking_id, failure.attempts) == (
            "mail",
            item.seq,
            "b1",
            1,
        )
        assert (failure.last_error, failure.next_attempt_at) == ("smtp timeout", retry_at)
        await store.mark_delivered("mail", [item.seq], retry_at)
        assert await store.failures() == []

    async def test_a_given_up_item_stays_visible_and_is_not_claimed(self, store: StoreWithOutbox) -> None:
        await store.claim("mail", NOW)
        await store.claim("webhooks", NOW)
        await self._event(store, "b1", 9 * 60)
        (item,) = await store.claim("mail", NOW)
        await store.mark_failed("mail", item.seq, NOW, "first", NOW)
        await store.mark_failed("mail", item.seq, NOW, "bounced", None)
        assert await store.claim("mail", NOW + timedelta(days=1)) == []
        (failure,) = await store.failures()
        assert (failure.attempts, failure.last_error, failure.next_attempt_at) == (2, "bounced", None)
        assert await store.failures("webhooks") == []


def sample_practitioner(practitioner_id: str = "jane-doe", **changes: Any) -> Practitioner:
    """A practitioner giving every optional field (its own, its offer's, its schedule's) a value other
    than the default, so that a field an adapter forgets cannot read back equal by chance
    (PractitionerDirectoryContract checks that it does, field by field)."""
    practitioner = Practitioner(
        id=practitioner_id,
        name="Dr. Jane Doe",
        offer=Offer(
            session_length=timedelta(minutes=50),
            price=Money(9000, "EUR"),
            buffer_before=timedelta(minutes=5),
            buffer_after=timedelta(minutes=10),
            min_notice=timedelta(hours=12),
            horizon=timedelta(days=90),
            slot_step=timedelta(minutes=15),
            hold_duration=timedelta(minutes=45),
            cancellation=CancellationPolicy(timedelta(hours=48), 50),
            reminder_offsets=(timedelta(hours=24), timedelta(minutes=90)),
            rescheduling=ReschedulePolicy(timedelta(hours=12), 3),
        ),
        schedule=WeeklySchedule(
            "Europe/Berlin",
            {"mon": [LocalHours.parse("09:00-12:00"), LocalHours.parse("13:00-17:30")]},
            overrides=(
                DateOverride(date(2030, 1, 1)),
                DateOverride(date(2030, 1, 2), (LocalHours.parse("10:00-11:00"),)),
            ),
        ),
        calcom_event_type_id=4242,
        email="jane.doe@example.com",
        services=(
            Service(
                "intro",
                "Free intro call",
                timedelta(minutes=15),
                Money(0, "EUR"),
                limits=BookingLimits(per_day=2, per_week=5),
            ),
            Service(
                "double-session",
                "Double session",
                timedelta(minutes=100),
                Money(17000, "EUR"),
                buffer_before=timedelta(minutes=10),
                buffer_after=timedelta(minutes=20),
                min_notice=timedelta(hours=48),
                slot_step=timedelta(minutes=30),
                hold_duration=timedelta(hours=2),
                location="https://meet.example.com/jane-doe",
            ),
        ),
        limits=BookingLimits(per_day=4, per_week=15),
    )
    return evolve(practitioner, **changes)


class PractitionerDirectoryContract:
    """Every behaviour of booking_core.ports.PractitionerDirectory. Fixture: `directory`, empty."""

    pytestmark = pytest.mark.anyio

    async def test_a_practitioner_reads_back_equal(self, directory: PractitionerDirectory) -> None:
        practitioner = sample_practitioner()
        await directory.upsert(practitioner)
        assert await directory.get("jane-doe") == practitioner
        assert await directory.get("nobody") is None

    async def test_every_field_round_trips(self, directory: PractitionerDirectory) -> None:
        """Every field of Practitioner (its offer's and schedule's too) reads back as written, both
        from an insert and from an upsert over a practitioner that had none of the optional ones."""
        practitioner = sample_practitioner()
        assert_sets_every_field([practitioner], "sample_practitioner()")
        await directory.upsert(practitioner)
        assert_reads_back(practitioner, await directory.get("jane-doe"), "an insert")
        bare = Practitioner(
            id="ann-bo",
            name="Ann Bo",
            offer=Offer(session_length=timedelta(hours=1), price=Money(5000, "USD")),
            schedule=WeeklySchedule("America/New_York", {"tue": [LocalHours.parse("08:00-12:00")]}),
        )
        await directory.upsert(bare)
        updated = evolve(practitioner, id="ann-bo")
        await directory.upsert(updated)
        assert_reads_back(updated, await directory.get("ann-bo"), "an upsert over a bare practitioner")
        listed = await directory.list()
        assert_reads_back([updated, practitioner], listed, "list()")

    async def test_upsert_replaces(self, directory: PractitionerDirectory) -> None:
        await directory.upsert(sample_practitioner())
        changed = sample_practitioner(name="Dr. Jane Roe", calcom_event_type_id=12345)
        await directory.upsert(changed)
        assert await directory.get("jane-doe") == changed
        assert await directory.list() == [changed]

    async def test_list_is_sorted_by_id(self, directory: PractitionerDirectory) -> None:
        for practitioner_id in ("sam-lee", "ann-bo", "jane-doe"):
            await directory.upsert(sample_practitioner(practitioner_id))
        assert [p.id for p in await directory.list()] == ["ann-bo", "jane-doe", "sam-lee"]

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(practitioner=practitioners())
    async def test_any_practitioner_reads_back_as_written(
        self, directory: PractitionerDirectory, practitioner: Practitioner
    ) -> None:
        """A property: any generated practitioner (time zones, weekly hours, offers, services) reads
        back as it was written, also over an earlier one of the same id."""
        await directory.upsert(practitioner)
        assert_reads_back(practitioner, await directory.get(practitioner.id), "upsert")


class PractitionerRemovalContract:
    """`PractitionerDirectory.remove` and what the store then refuses. Fixture: `adapters`, an empty
    (store, directory) pair over the same data."""

    pytestmark = pytest.mark.anyio

    async def test_a_removed_practitioner_is_kept_for_their_bookings_only(self, adapters: Any) -> None:
        _store, directory = adapters
        practitioner = sample_practitioner("pr-a")
        await directory.upsert(practitioner)
        await directory.upsert(sample_practitioner("pr-b"))
        await directory.remove("pr-a", NOW)
        assert await directory.get("pr-a") is None
        assert await directory.get("pr-a", include_removed=True) == practitioner
        assert [p.id for p in await directory.list()] == ["pr-b"]

    async def test_removing_nobody_is_not_found(self, adapters: Any) -> None:
        _store, directory = adapters
        with pytest.raises(NotFound):
            await directory.remove("nobody", NOW)
        await directory.upsert(sample_practitioner("pr-a"))
        await directory.remove("pr-a", NOW)
        with pytest.raises(NotFound):
            await directory.remove("pr-a", NOW)

    async def test_a_live_hold_keeps_the_practitioner_until_it_lapses(self, adapters: Any) -> None:
        store, directory = adapters
        await directory.upsert(sample_practitioner("pr-a"))
        await store.add_if_free(*hold("b1", 600))
        with pytest.raises(PractitionerHasLiveBookings) as refused:
            await directory.remove("pr-a", NOW)
        assert (refused.value.held, refused.value.confirmed) == (("b1",), ())
        assert "1 live booking" in str(refused.value)
        assert [p.id for p in await directory.list()] == ["pr-a"]
        await directory.remove("pr-a", NOW + HOLD)
        assert await directory.list() == []

    async def test_a_confirmed_session_keeps_the_practitioner_until_it_ends(self, adapters: Any) -> None:
        store, directory = adapters
        await directory.upsert(sample_practitioner("pr-a"))
        booking, event = hold("b1", 600)
        await store.add_if_free(booking, event)
        confirmed, paid = transition(booking, Trigger.PAYMENT_CONFIRMED, NOW)
        await store.save(booking, confirmed, paid)
        await store.add_if_free(*hold("b2", 700))
        with pytest.raises(PractitionerHasLiveBookings) as refused:
            await directory.remove("pr-a", NOW + HOLD)  # b2's hold lapsed: only b1 counts
        assert (refused.value.held, refused.value.confirmed) == ((), ("b1",))
        await directory.remove("pr-a", confirmed.slot.end)
        assert await store.get("b1") == confirmed  # the history stays
        assert await directory.get("pr-a", include_removed=True) is not None

    async def test_no_new_booking_or_late_confirmation_after_removal(self, adapters: Any) -> None:
        store, directory = adapters
        await directory.upsert(sample_practitioner("pr-a"))
        lapsed, event = hold("b1", 600)
        await store.add_if_free(lapsed, event)
        await directory.remove("pr-a", NOW + HOLD)
        with pytest.raises(PractitionerRemoved):
            await store.add_if_free(*hold("b2", 800, at=NOW + HOLD))
        released, release = transition(lapsed, Trigger.HOLD_RELEASED, NOW + HOLD)
        await store.save(lapsed, released, release)
        late, paid = transition(released, Trigger.PAYMENT_CONFIRMED, NOW + HOLD)
        with pytest.raises(SlotUnavailable):  # the service then refunds the late payment
            await store.save(released, late, paid)
        await store.add_if_free(*hold("b3", 600, practitioner_id="pr-b", at=NOW + HOLD))  # others book on

    async def test_an_upsert_brings_a_removed_practitioner_back(self, adapters: Any) -> None:
        store, directory = adapters
        await directory.upsert(sample_practitioner("pr-a"))
        await directory.remove("pr-a", NOW)
        await directory.upsert(sample_practitioner("pr-a"))
        assert [p.id for p in await directory.list()] == ["pr-a"]
        await store.add_if_free(*hold("b1", 600))

    async def test_a_booking_racing_the_removal_is_never_orphaned(self, adapters: Any) -> None:
        """Either the removal sees the booking and refuses, or the booking sees the removal."""
        store, directory = adapters
        for round_ in range(5):
            practitioner_id = f"pr-race-{round_}"
            await directory.upsert(sample_practitioner(practitioner_id))
            outcomes = await _race_removal(store, directory, practitioner_id, bookings=4)
            booked = [b for n in range(4) if (b := await store.get(f"{practitioner_id}-{n}")) is not None]
            assert not ("removed" in outcomes and booked), outcomes
            assert "removed" in outcomes or booked


async def _race_removal(store: Any, directory: Any, practitioner_id: str, *, bookings: int) -> list[str]:
    """`bookings` holds of the practitioner (on separate slots) and their removal, all at once."""
    outcomes: list[str] = []

    async def book(number: int) -> None:
        try:
            await store.add_if_free(
                *hold(f"{practitioner_id}-{number}", number * 60, practitioner_id=practitioner_id)
            )
        except PractitionerRemoved:
            outcomes.append("refused")

    async def remove() -> None:
        try:
            await directory.remove(practitioner_id, NOW)
        except PractitionerHasLiveBookings:
            outcomes.append("kept")
        else:
            outcomes.append("removed")

    async with anyio.create_task_group() as tasks:
        for number in range(bookings):
            tasks.start_soon(book, number)
        tasks.start_soon(remove)
    return outcomes
