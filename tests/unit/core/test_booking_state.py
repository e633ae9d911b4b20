from datetime import UTC, datetime, timedelta

import pytest

from booking_core import (
    TRANSITIONS,
    Booking,
    BookingStatus,
    ClientDetails,
    IllegalTransition,
    InvalidCancelToken,
    Money,
    TimeRange,
    Trigger,
)

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
S, T = BookingStatus, Trigger


def _hold() -> Booking:
    slot = TimeRange.of(T0 + timedelta(days=1), timedelta(minutes=50))
    booking, event = Booking.hold(
        booking_id="b1",
        practitioner_id="p1",
        slot=slot,
        occupied=slot,
        client=ClientDetails("Ann", "ann@example.com", "+493012345678"),
        client_timezone="Europe/Berlin",
        price=Money(9000, "EUR"),
        hold_expires_at=T0 + timedelta(minutes=30),
        cancel_token="secret-token",
        now=T0,
    )
    assert event.trigger is T.HOLD_PLACED and event.from_status is None
    return booking


def _in(status: BookingStatus) -> Booking:
    from attrs import evolve

    return evolve(_hold(), status=status)


@pytest.mark.parametrize(("start", "trigger"), list(TRANSITIONS))
def test_every_listed_transition_yields_its_event(start: BookingStatus, trigger: Trigger) -> None:
    booking = _in(start)
    after, event = booking.apply(trigger, at=T0 + timedelta(minutes=1), reason="test")
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
    if trigger is not T.HOLD_PLACED
    and (status, trigger) not in TRANSITIONS
    and TRANSITIONS.get((S.PENDING_PAYMENT, trigger)) != status
    and not (trigger is T.LATE_PAYMENT_REFUND_DUE and status in (S.REFUND_DUE, S.REFUNDED))
    and not (trigger is T.REFUND_ISSUED and status is S.REFUNDED)
    and not (trigger is T.PAYMENT_CONFIRMED and status is S.CONFIRMED)
    and not (trigger is T.REFUNDED_OUTSIDE and status is S.CANCELLED)
]


@pytest.mark.parametrize(("status", "trigger"), UNLISTED)
def test_unlisted_transitions_are_illegal(status: BookingStatus, trigger: Trigger) -> None:
    with pytest.raises(IllegalTransition):
        _in(status).apply(trigger, at=T0, reason="test")


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
        booking, _ = booking.apply(T.PAYMENT_CONFIRMED, at=T0, reason="paid")
    if trigger in (T.LATE_PAYMENT_REFUND_DUE, T.REFUND_ISSUED):
        booking, _ = booking.apply(T.HOLD_RELEASED, at=T0, reason="lapsed")
    if trigger is T.REFUND_ISSUED:
        booking, _ = booking.apply(T.LATE_PAYMENT_REFUND_DUE, at=T0, reason="late")
    once, first = booking.apply(trigger, at=T0, reason="once")
    twice, second = once.apply(trigger, at=T0 + timedelta(minutes=1), reason="again")
    assert first is not None and second is None and twice is once


def test_liveness_follows_status_and_hold_expiry() -> None:
    hold = _hold()
    assert hold.is_live(T0) and not hold.is_live(hold.hold_expires_at)
    confirmed, _ = hold.apply(T.PAYMENT_CONFIRMED, at=T0, reason="paid")
    assert confirmed.is_live(T0 + timedelta(days=365))
    cancelled, _ = confirmed.apply(T.CANCELLED, at=T0, reason="client")
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
