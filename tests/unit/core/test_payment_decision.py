"""The decision a payment event makes for a booking (booking_core.payment_decision): pure, so the
table in docs/architecture.md ("Payment events") is checked row by row without any port."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from attrs import evolve

from booking_core import (
    Booking,
    BookingStatus,
    ClientDetails,
    Money,
    PaymentEvent,
    PaymentEventKind,
    TimeRange,
)
from booking_core.payment import ReceivedPayment
from booking_core.payment_decision import (
    AwaitPayment,
    Confirm,
    Duplicate,
    EndPaymentCheck,
    Ignore,
    LearnPaymentFirst,
    RecordPartialRefund,
    RecordRefund,
    RefundedOutside,
    RefundLatePayment,
    RefundSecondPayment,
    Refuse,
    Release,
    decide,
    decide_refund,
)

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
PRICE = Money(9000, "EUR")
S, K = BookingStatus, PaymentEventKind


def booking(
    status: BookingStatus = S.PENDING_PAYMENT,
    *,
    amount_paid: Money | None = None,
    refund_owed: Money | None = None,
    refund_id: str | None = None,
    payment_check_due: bool = False,
) -> Booking:
    slot = TimeRange.of(T0 + timedelta(days=1), timedelta(minutes=50))
    held, _ = Booking.hold(
        booking_id="b1",
        practitioner_id="p1",
        slot=slot,
        occupied=slot,
        client=ClientDetails("Ann", "ann@example.com", "+493012345678"),
        client_timezone="Europe/Berlin",
        price=PRICE,
        hold_expires_at=T0 + timedelta(minutes=30),
        cancel_token="token",
        now=T0,
    )
    return evolve(
        held,
        status=status,
        checkout_session_id="cs_1",
        amount_paid=amount_paid,
        refund_owed=refund_owed,
        refund_id=refund_id,
        payment_check_due=payment_check_due,
    )


def paid(kind: PaymentEventKind = K.CHECKOUT_COMPLETED, amount: Money | None = PRICE) -> PaymentEvent:
    return PaymentEvent("evt", kind, "b1", "cs_1", "pi_1", paid=True, amount=amount)


def refunded(
    amount: Money | None, total: Money | None = None, refund_id: str | None = "re_1"
) -> PaymentEvent:
    return PaymentEvent("evt", K.REFUNDED, "b1", refund_id=refund_id, refunded=amount, refunded_total=total)


PAYMENT = ReceivedPayment(PRICE, "pi_1", "cs_1")


@pytest.mark.parametrize(
    ("status", "decision"),
    [
        (S.PENDING_PAYMENT, Confirm(PAYMENT, "payment received")),
        (S.EXPIRED, Confirm(PAYMENT, "late payment, slot still free")),
        (S.CANCELLED, RefundLatePayment(PAYMENT, "paid after the client cancelled")),
        (S.CONFIRMED, Duplicate()),
        (S.REFUND_DUE, Ignore()),
        (S.REFUNDED, Ignore()),
    ],
)
def test_a_payment_by_the_booking_status(status: BookingStatus, decision: object) -> None:
    assert decide(booking(status), paid()) == decision
    assert decide(booking(status), paid(K.ASYNC_PAYMENT_SUCCEEDED)) == decision


@pytest.mark.parametrize("status", [S.PENDING_PAYMENT, S.EXPIRED, S.CANCELLED, S.CONFIRMED])
def test_a_payment_of_another_amount_is_refunded_whatever_the_status(status: BookingStatus) -> None:
    wrong = Money(100, "EUR")
    assert decide(booking(status, amount_paid=PRICE), paid(amount=wrong)) == RefundLatePayment(
        ReceivedPayment(wrong, "pi_1", "cs_1"), "paid amount does not match the price"
    )


def test_a_payment_on_a_booking_cancelled_after_paying_is_not_refunded_again() -> None:
    assert decide(booking(S.CANCELLED, amount_paid=PRICE), paid()) == Ignore()


def test_a_checkout_completed_unpaid_awaits_the_payment() -> None:
    event = evolve(paid(), paid=False, amount=None)
    assert decide(booking(), event) == AwaitPayment()


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (
            evolve(paid(), checkout_session_id="cs_other"),
            "checkout session cs_other is not the booking's cs_1",
        ),
        (paid(amount=None), "a paid checkout without an amount"),
        (
            PaymentEvent("evt", K.CHECKOUT_EXPIRED, "b1", "cs_other"),
            "checkout session cs_other is not the booking's cs_1",
        ),
    ],
)
def test_an_event_contradicting_the_booking_is_refused(event: PaymentEvent, reason: str) -> None:
    assert decide(booking(), event) == Refuse(reason)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (K.CHECKOUT_EXPIRED, "payment checkout expired"),
        (K.ASYNC_PAYMENT_FAILED, "payment async payment failed"),
    ],
)
def test_an_unpaid_end_releases_a_pending_hold(kind: PaymentEventKind, reason: str) -> None:
    event = PaymentEvent("evt", kind, "b1", "cs_1")
    assert decide(booking(), event) == Release(reason)
    assert decide(booking(S.CONFIRMED), event) == Ignore()  # arrived after the payment
    assert decide(booking(S.EXPIRED, payment_check_due=True), event) == EndPaymentCheck()


def test_other_events_are_ignored() -> None:
    assert decide(booking(), PaymentEvent("evt", K.OTHER, "b1")) == Ignore()


def test_a_refund_before_its_payment_is_known_asks_for_the_payment_first() -> None:
    assert decide(booking(S.CANCELLED), refunded(PRICE)) == LearnPaymentFirst()


@pytest.mark.parametrize("status", [S.REFUND_DUE, S.CANCELLED])
def test_a_refund_owed_is_recorded(status: BookingStatus) -> None:
    owing = booking(status, amount_paid=PRICE, refund_owed=PRICE)
    assert decide(owing, refunded(Money(4500, "EUR"))) == RecordRefund("re_1", Money(4500, "EUR"))
    assert decide(owing, refunded(None, refund_id="re_1")) == RecordRefund("re_1", PRICE)


def test_a_refund_already_recorded_is_a_duplicate_and_another_is_ignored() -> None:
    settled = booking(S.REFUNDED, amount_paid=PRICE, refund_id="re_1")
    assert decide(settled, refunded(PRICE)) == Duplicate()
    assert decide(settled, refunded(PRICE, refund_id="re_2")) == Ignore()
    assert decide_refund(booking(S.EXPIRED), refunded(PRICE)) == Ignore()


def test_a_confirmed_booking_refunded_in_full_outside_is_called_off() -> None:
    confirmed = booking(S.CONFIRMED, amount_paid=PRICE)
    assert decide(confirmed, refunded(PRICE)) == RefundedOutside("re_1", PRICE)
    assert decide(confirmed, refunded(Money(100, "EUR"), total=PRICE)) == RefundedOutside("re_1", PRICE)


def test_a_confirmed_booking_refunded_in_part_outside_stands() -> None:
    confirmed = booking(S.CONFIRMED, amount_paid=PRICE)
    part = Money(3000, "EUR")
    assert decide(confirmed, refunded(part, total=part)) == RecordPartialRefund(part)
    assert decide(confirmed, refunded(part)) == Ignore()  # a refund's own event: not the total
    recorded = evolve(confirmed, amount_refunded=part)
    assert decide(recorded, refunded(part, total=part)) == Ignore()  # that total is recorded
    assert decide(confirmed, refunded(Money(3000, "USD"), total=Money(3000, "USD"))) == Ignore()


MOVED = ("cs_0",)  # a checkout a move of the hold replaced (booking_core.rescheduling)


def test_a_payment_at_a_checkout_a_move_replaced_counts_its_closing_does_not() -> None:
    held = evolve(booking(), replaced_checkouts=MOVED)
    at_old_page = evolve(paid(), checkout_session_id="cs_0")
    assert decide(held, at_old_page) == Confirm(
        evolve(PAYMENT, checkout_session_id="cs_0"), "payment received"
    )
    for kind in (K.CHECKOUT_EXPIRED, K.ASYNC_PAYMENT_FAILED):
        assert decide(held, PaymentEvent("evt", kind, "b1", "cs_0")) == Ignore()
    assert decide(held, PaymentEvent("evt", K.CHECKOUT_EXPIRED, "b1", "cs_1")) == Release(
        "payment checkout expired"
    )
    assert decide(held, evolve(paid(), checkout_session_id="cs_other")) == Refuse(
        "checkout session cs_other is not the booking's cs_1"
    )


@pytest.mark.parametrize("status", [S.CONFIRMED, S.CANCELLED, S.REFUND_DUE, S.COMPLETED])
def test_a_second_payment_of_a_paid_booking_goes_back(status: BookingStatus) -> None:
    """Both pages of a moved hold paid: whatever became of the booking, the other payment goes back."""
    first = evolve(booking(status, amount_paid=PRICE), payment_intent_id="pi_0", replaced_checkouts=MOVED)
    assert decide(first, paid()) == RefundSecondPayment(PAYMENT)
    assert decide(evolve(first, payment_intent_id="pi_1"), paid()) == (
        Duplicate() if status in (S.CONFIRMED, S.COMPLETED) else Ignore()
    )


def test_the_refund_of_a_second_payment_leaves_the_booking_alone() -> None:
    confirmed = evolve(booking(S.CONFIRMED, amount_paid=PRICE), payment_intent_id="pi_0")
    of_second = evolve(refunded(PRICE, PRICE), payment_intent_id="pi_1")
    assert decide(confirmed, of_second) == Ignore()
    assert decide(confirmed, evolve(of_second, payment_intent_id="pi_0")) == RefundedOutside("re_1", PRICE)
