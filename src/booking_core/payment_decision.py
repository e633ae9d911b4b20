"""What a payment event means for a booking: a pure decision, which the service carries out
against the ports (docs/architecture.md, "Payment events")."""

from __future__ import annotations

from attrs import frozen

from booking_core.booking import Booking, BookingStatus
from booking_core.money import Money
from booking_core.payment import PaymentEvent, PaymentEventKind, ReceivedPayment

S, K = BookingStatus, PaymentEventKind


@frozen
class Ignore:
    """Nothing to do: of no concern, out of order, or already past it."""


@frozen
class Duplicate:
    """What the event says is already recorded."""


@frozen
class Refuse:
    """The event contradicts the booking (another checkout, a payment without an amount)."""

    reason: str


@frozen
class AwaitPayment:
    """Checkout completed, the money not yet in (delayed payment methods)."""


@frozen
class Confirm:
    """Confirm the booking, if the store still finds its slot free (else refund it as late)."""

    payment: ReceivedPayment
    reason: str


@frozen
class RefundLatePayment:
    """The payment cannot buy the slot: release the hold if it stands, owe the money back, refund."""

    payment: ReceivedPayment
    reason: str


@frozen
class RefundSecondPayment:
    """A payment of a booking paid already through another of its checkouts (the one a move
    replaced, and the one replacing it): the booking keeps the first; this one goes back in full."""

    payment: ReceivedPayment


@frozen
class Release:
    """The checkout ended unpaid: release the hold (the provider's word is in, nothing to check)."""

    reason: str


@frozen
class EndPaymentCheck:
    """The checkout of a booking that left pending without the provider's word ended unpaid:
    nothing more to ask about it."""


@frozen
class LearnPaymentFirst:
    """A refund overtook its payment's event: ask the provider about the payment, then decide the
    refund with `decide_refund`."""


@frozen
class RecordRefund:
    """The refund this booking owed was made."""

    refund_id: str
    amount: Money | None


@frozen
class RefundedOutside:
    """A confirmed booking was refunded in full outside this service: it is called off."""

    refund_id: str | None
    total: Money


@frozen
class RecordPartialRefund:
    """Part of a confirmed booking's payment was refunded outside this service (or any of it, once
    the session is over): recorded; the booking stands."""

    total: Money


PaymentDecision = (
    Ignore
    | Duplicate
    | Refuse
    | AwaitPayment
    | Confirm
    | RefundLatePayment
    | RefundSecondPayment
    | Release
    | EndPaymentCheck
    | LearnPaymentFirst
    | RecordRefund
    | RefundedOutside
    | RecordPartialRefund
)

_CHECKOUT_EVENTS = frozenset(
    {K.CHECKOUT_COMPLETED, K.ASYNC_PAYMENT_SUCCEEDED, K.ASYNC_PAYMENT_FAILED, K.CHECKOUT_EXPIRED}
)


def decide(booking: Booking, event: PaymentEvent) -> PaymentDecision:
    """What `event` (about `booking`) asks for."""
    reason = refusal(event, booking)
    if reason is not None:
        return Refuse(reason)
    match event.kind:
        case K.CHECKOUT_COMPLETED if not event.paid:
            return AwaitPayment()
        case K.CHECKOUT_COMPLETED | K.ASYNC_PAYMENT_SUCCEEDED:
            return decide_payment(booking, event)
        case K.ASYNC_PAYMENT_FAILED | K.CHECKOUT_EXPIRED if _replaced(booking, event):
            return Ignore()  # a checkout a move replaced closed: the booking's own checkout decides
        case K.ASYNC_PAYMENT_FAILED | K.CHECKOUT_EXPIRED if booking.status is S.PENDING_PAYMENT:
            return Release(f"payment {event.kind.replace('_', ' ')}")
        case K.ASYNC_PAYMENT_FAILED | K.CHECKOUT_EXPIRED:  # e.g. an expiry delivered after the payment
            return EndPaymentCheck() if booking.payment_check_due else Ignore()
        case K.REFUNDED if _of_another_payment(booking, event):
            return Ignore()  # a second payment's refund (RefundSecondPayment): the booking's stands
        case K.REFUNDED if booking.amount_paid is None and booking.checkout_session_id is not None:
            return LearnPaymentFirst()
        case K.REFUNDED:
            return decide_refund(booking, event)
    return Ignore()


def refusal(event: PaymentEvent, booking: Booking) -> str | None:
    """Why a checkout event must not be applied to `booking`, if it must not: it is about another
    checkout session than the booking's (or one of those its moves replaced), or it says paid
    without saying how much."""
    if event.kind not in _CHECKOUT_EVENTS:
        return None
    expected = booking.checkout_session_id
    if (
        expected is not None
        and event.checkout_session_id != expected
        and event.checkout_session_id not in booking.replaced_checkouts
    ):
        return f"checkout session {event.checkout_session_id} is not the booking's {expected}"
    if event.paid and event.amount is None:
        return "a paid checkout without an amount"
    return None


def decide_payment(
    booking: Booking, event: PaymentEvent
) -> Confirm | RefundLatePayment | RefundSecondPayment | Duplicate | Ignore:
    """What a reported payment does to `booking` (from a webhook, or the provider's answer when asked)."""
    payment = ReceivedPayment.of(event, booking.price)
    if booking.amount_paid is not None and _of_another_payment(booking, event):
        return RefundSecondPayment(payment)
    if payment.amount != booking.price:
        return RefundLatePayment(payment, "paid amount does not match the price")
    if booking.status is S.CANCELLED and booking.amount_paid is None:
        return RefundLatePayment(payment, "paid after the client cancelled")
    match booking.status:
        case S.PENDING_PAYMENT:
            return Confirm(payment, "payment received")
        case S.EXPIRED:
            return Confirm(payment, "late payment, slot still free")
        case S.CONFIRMED | S.COMPLETED | S.NO_SHOW:  # paid, and recorded so already
            return Duplicate()
    return Ignore()


def _replaced(booking: Booking, event: PaymentEvent) -> bool:
    return event.checkout_session_id in booking.replaced_checkouts


def _of_another_payment(booking: Booking, event: PaymentEvent) -> bool:
    """Whether `event` is about another payment than the one `booking` recorded (a booking whose
    checkout a move replaced may be paid on both pages)."""
    known, named = booking.payment_intent_id, event.payment_intent_id
    return known is not None and named is not None and named != known


def decide_refund(booking: Booking, event: PaymentEvent) -> PaymentDecision:
    """What a reported refund does to `booking`, its payment known as far as the provider knows it."""
    if booking.status is S.CONFIRMED:  # a confirmed booking owes no refund of ours
        return _refunded_outside(booking, event)
    if booking.status in (S.COMPLETED, S.NO_SHOW):  # nor does one whose session is over
        return _refunded_after_session(booking, event)
    if booking.refund_id is not None or event.refund_id is None:
        return Duplicate() if booking.refund_id == event.refund_id else Ignore()
    if booking.status not in (S.REFUND_DUE, S.CANCELLED):
        return Ignore()  # refunded outside this system; the booking stands
    return RecordRefund(event.refund_id, event.refunded or booking.refund_owed)


def _refunded_after_session(booking: Booking, event: PaymentEvent) -> PaymentDecision:
    """A refund of a session that is over (completed or missed), made in the Stripe Dashboard (a
    goodwill refund, say): the money record takes the total refunded, in part or in full; the
    session took place, or was missed, all the same, so nothing is called off and nobody is told.
    As for a confirmed booking, a refund's own event counts only when it returns everything."""
    paid, total = booking.amount_paid, event.refunded_total or event.refunded
    if paid is None or total is None or total.currency != paid.currency or booking.amount_refunded == total:
        return Ignore()
    if total.amount >= paid.amount or event.refunded_total is not None:
        return RecordPartialRefund(total)
    return Ignore()


def _refunded_outside(booking: Booking, event: PaymentEvent) -> PaymentDecision:
    """A refund of a confirmed booking that nobody here asked for (made in the Stripe Dashboard,
    say because the practitioner is ill). In full it calls the booking off: the slot is free
    again and client, practitioner and subscribers hear of a cancellation. In part it is recorded
    and the booking stands. A charge's events say the total refunded so far; a refund's event
    says that refund alone, so it counts only when it returns everything."""
    paid, total = booking.amount_paid, event.refunded_total or event.refunded
    if paid is None or total is None or total.currency != paid.currency:
        return Ignore()
    if total.amount >= paid.amount:
        return RefundedOutside(event.refund_id, total)
    if event.refunded_total is None or booking.amount_refunded == total:
        return Ignore()  # a refund's own event, or a total already recorded
    return RecordPartialRefund(total)
