from datetime import UTC, datetime, timedelta

import pytest

from booking_core import (
    TRANSITIONS,
    Booking,
    BookingEvent,
    BookingStatus,
    CancellationPolicy,
    ClientDetails,
    IllegalTransition,
    InvalidCancelToken,
    Money,
    TimeRange,
    Trigger,
)
from booking_core.booking import IDEMPOTENT
from booking_core.payment import CheckoutSession, ReceivedPayment
from booking_core.testing.transitions import take

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
S, T = BookingStatus, Trigger


PRICE = Money(9000, "EUR")


def _new(price: Money = PRICE, address: str | None = None) -> tuple[Booking, BookingEvent]:
    slot = TimeRange.of(T0 + timedelta(days=1), timedelta(minutes=50))
    return Booking.hold(
        booking_id="b1",
        practitioner_id="p1",
        slot=slot,
        occupied=slot,
        client=ClientDetails("Ann", "ann@example.com", "+493012345678"),
        client_timezone="Europe/Berlin",
        price=price,
        hold_expires_at=T0 + timedelta(minutes=30),
        cancel_token="secret-token",
        now=T0,
        client_address=address,
    )


def _hold() -> Booking:
    booking, event = _new()
    assert event.trigger is T.HOLD_PLACED and event.from_status is None
    return booking


def test_a_booking_begins_held_for_payment_or_confirmed_when_free() -> None:
    """The beginnings are rows of the one table: (None, trigger)."""
    held, placed = _new()
    free, booked = _new(Money(0, "EUR"), "203.0.113.7")
    assert (placed.trigger, placed.from_status, placed.to_status) == (T.HOLD_PLACED, None, S.PENDING_PAYMENT)
    assert (booked.trigger, booked.from_status, booked.to_status) == (T.BOOKED_FREE, None, S.CONFIRMED)
    assert (
        held.status is TRANSITIONS[(None, T.HOLD_PLACED)]
        and free.status is TRANSITIONS[(None, T.BOOKED_FREE)]
    )
    assert held.hold_expires_at == T0 + timedelta(minutes=30) and not held.is_free
    # nothing to wait for: a free booking is live as confirmed, not as a hold that lapses
    assert free.hold_expires_at == T0 and free.is_free and free.is_live(T0 + timedelta(days=1))
    assert free.client_address == "203.0.113.7"  # for the per-address cap of free bookings


def test_cancelling_a_free_booking_refunds_nothing_and_forgets_the_address() -> None:
    free, _ = _new(Money(0, "EUR"), "203.0.113.7")
    cancelled, event = free.cancel_by_client(at=T0, policy=CancellationPolicy(timedelta(hours=48), 0))
    assert cancelled.status is S.CANCELLED and event is not None and event.from_status is S.CONFIRMED
    assert cancelled.refund_owed is None and not cancelled.payment_check_due
    assert cancelled.client_address is None


def _in(status: BookingStatus) -> Booking:
    from attrs import evolve

    return evolve(_hold(), status=status)


@pytest.mark.parametrize(("start", "trigger"), [key for key in TRANSITIONS if key[0] is not None])
def test_every_listed_transition_yields_its_event(start: BookingStatus, trigger: Trigger) -> None:
    booking = _in(start)
    after, event = take(booking, trigger, T0 + timedelta(minutes=1))
    assert after.status is TRANSITIONS[(start, trigger)]
    assert event is not None and (event.from_status, event.to_status, event.trigger) == (
        start,
        after.status,
        trigger,
    )
    assert event.at == after.updated_at and after.version == booking.version + 1


UNLISTED = [
    (status, trigger)
    for status in S
    for trigger in T
    if (None, trigger) not in TRANSITIONS
    and (status, trigger) not in TRANSITIONS
    and TRANSITIONS.get((S.PENDING_PAYMENT, trigger)) != status
    and not (trigger is T.LATE_PAYMENT_REFUND_DUE and status in (S.REFUND_DUE, S.REFUNDED))
    and not (trigger is T.REFUND_ISSUED and status is S.REFUNDED)
    and not (trigger is T.PAYMENT_CONFIRMED and status is S.CONFIRMED)
    and not (trigger is T.REFUNDED_OUTSIDE and status is S.CANCELLED)
    # after the session: a repeat, and completing a no-show (it stays one), change nothing
    and not (trigger in (T.COMPLETED, T.NO_SHOW_MARKED, T.NO_SHOW_UNDONE) and status in IDEMPOTENT[trigger])
]


@pytest.mark.parametrize(("status", "trigger"), UNLISTED)
def test_unlisted_transitions_are_illegal(status: BookingStatus, trigger: Trigger) -> None:
    with pytest.raises(IllegalTransition):
        take(_in(status), trigger, T0)


@pytest.mark.parametrize(
    "trigger",
    [
        T.PAYMENT_CONFIRMED,
        T.HOLD_RELEASED,
        T.CANCELLED,
        T.LATE_PAYMENT_REFUND_DUE,
        T.REFUND_ISSUED,
        T.REFUNDED_OUTSIDE,
    ],
)
def test_reapplying_an_event_is_a_no_op(trigger: Trigger) -> None:
    booking = _hold()
    if trigger is T.REFUNDED_OUTSIDE:
        booking, _ = take(booking, T.PAYMENT_CONFIRMED, T0)
    if trigger in (T.LATE_PAYMENT_REFUND_DUE, T.REFUND_ISSUED):
        booking, _ = take(booking, T.HOLD_RELEASED, T0)
    if trigger is T.REFUND_ISSUED:
        booking, _ = take(booking, T.LATE_PAYMENT_REFUND_DUE, T0)
    once, first = take(booking, trigger, T0, reason="once")
    twice, second = take(once, trigger, T0 + timedelta(minutes=1), reason="again")
    assert first is not None and second is None and twice is once


def test_liveness_follows_status_and_hold_expiry() -> None:
    hold = _hold()
    assert hold.is_live(T0) and not hold.is_live(hold.hold_expires_at)
    confirmed, _ = take(hold, T.PAYMENT_CONFIRMED, T0)
    assert confirmed.is_live(T0 + timedelta(days=365))
    cancelled, _ = take(confirmed, T.CANCELLED, T0)
    assert not cancelled.is_live(T0)


def test_only_the_cancel_token_hash_is_kept() -> None:
    hold = _hold()
    assert "secret-token" not in repr(hold)
    assert hold.cancel_token_matches("secret-token") and not hold.cancel_token_matches("guess")


def test_require_cancel_token_refuses_any_other_token() -> None:
    hold = _hold()
    hold.require_cancel_token("secret-token")
    with pytest.raises(InvalidCancelToken, match="not valid for this booking"):
        hold.require_cancel_token("guess")


def _paid() -> Booking:
    paid, _ = _hold().confirm_payment(
        ReceivedPayment(Money(9000, "EUR"), "pi_1", "cs_1"), at=T0, reason="paid"
    )
    return paid


POLICY = CancellationPolicy(timedelta(hours=24), late_refund_percent=50)


@pytest.mark.parametrize(
    ("notice", "owed"),
    [(timedelta(hours=24), Money(9000, "EUR")), (timedelta(hours=23), Money(4500, "EUR"))],
)
def test_a_client_gets_back_what_the_policy_grants(notice: timedelta, owed: Money) -> None:
    booking = _paid()
    cancelled, event = booking.cancel_by_client(at=booking.slot.start - notice, policy=POLICY)
    assert cancelled.status is S.CANCELLED and cancelled.refund_owed == owed
    assert event is not None and event.reason == "cancelled by the client"


def test_nothing_owed_is_no_refund_owed() -> None:
    booking = _paid()
    stingy = CancellationPolicy(timedelta(hours=24), late_refund_percent=0)
    cancelled, _ = booking.cancel_by_client(at=booking.slot.start - timedelta(hours=1), policy=stingy)
    assert cancelled.refund_owed is None
    unpaid, _ = _hold().cancel_by_client(at=T0, policy=POLICY)
    assert unpaid.refund_owed is None


def test_what_was_refunded_outside_is_not_owed_again() -> None:
    booking, _ = _paid().record_partial_refund(Money(3000, "EUR"), at=T0)
    cancelled, _ = booking.cancel_by_client(at=booking.slot.start - timedelta(days=2), policy=POLICY)
    assert cancelled.refund_owed == Money(6000, "EUR")
    late, _ = booking.cancel_by_client(at=booking.slot.start - timedelta(hours=1), policy=POLICY)
    assert late.refund_owed == Money(4500, "EUR")  # half the price: within what is left
    by_practitioner, _ = booking.cancel_by_practitioner(at=booking.slot.start, reason="ill")
    assert by_practitioner.refund_owed == Money(6000, "EUR")  # what is left of the payment, not all of it


def test_a_client_cannot_cancel_a_started_session_but_the_practitioner_can() -> None:
    booking = _paid()
    with pytest.raises(IllegalTransition, match="started can no longer be cancelled"):
        booking.cancel_by_client(at=booking.slot.start, policy=POLICY)
    cancelled, event = booking.cancel_by_practitioner(at=booking.slot.start, reason="ill")
    assert cancelled.refund_owed == Money(9000, "EUR")  # every cent, whatever the policy
    assert event is not None and event.reason == "ill"


def test_the_practitioner_asking_cannot_cancel_a_started_session() -> None:
    booking = _paid()
    with pytest.raises(IllegalTransition, match="started can no longer be cancelled"):
        booking.cancel_by_practitioner(at=booking.slot.start, reason="ill", after_start=False)
    just_before = booking.slot.start - timedelta(seconds=1)
    cancelled, _ = booking.cancel_by_practitioner(at=just_before, reason="ill", after_start=False)
    assert (cancelled.status, cancelled.refund_owed) == (BookingStatus.CANCELLED, Money(9000, "EUR"))


def test_cancelling_an_open_checkout_leaves_the_payment_to_check() -> None:
    with_checkout = _hold().attach_checkout(CheckoutSession("cs_1", "https://pay.invalid/cs_1"), at=T0)
    cancelled, _ = with_checkout.cancel_by_client(at=T0, policy=POLICY)
    assert cancelled.payment_check_due
    assert not _hold().cancel_by_client(at=T0, policy=POLICY)[0].payment_check_due  # no checkout yet
    assert cancelled.cancel_by_client(at=T0, policy=POLICY) == (cancelled, None)  # a repeat
