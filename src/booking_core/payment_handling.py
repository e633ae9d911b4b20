"""Payment events and what follows from them: carry out what `booking_core.payment_decision`
decides, send the refunds owed, ask the provider about a checkout."""

from __future__ import annotations

import hmac
import logging
from datetime import datetime
from enum import StrEnum

from attrs import define, frozen

from booking_core.booking import Booking, BookingStatus, Transition
from booking_core.booking_changes import BookingChanges
from booking_core.errors import IllegalTransition, PaymentProviderError, SlotUnavailable
from booking_core.payment import PaymentEvent, PaymentEventKind, ReceivedPayment
from booking_core.payment_decision import (
    AwaitPayment,
    Confirm,
    Duplicate,
    EndPaymentCheck,
    LearnPaymentFirst,
    PaymentDecision,
    RecordPartialRefund,
    RecordRefund,
    RefundedOutside,
    RefundLatePayment,
    RefundSecondPayment,
    Refuse,
    Release,
    decide,
    decide_payment,
    decide_refund,
    refusal,
)
from booking_core.ports import Clock, PaymentGateway

log = logging.getLogger(__name__)


class PaymentOutcome(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"  # refunded in full outside this service (the Stripe Dashboard)
    REFUSED = "refused"  # contradicts the booking (another checkout session, no amount): not applied
    AWAITING_PAYMENT = "awaiting_payment"  # checkout completed, money not yet in (async methods)
    RELEASED = "released"
    REFUND_REQUESTED = "refund_requested"
    REFUND_RECORDED = "refund_recorded"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@frozen
class ClosedCheckouts:
    """What the provider says of a booking's checkouts once closed."""

    paid: PaymentEvent | None  # a payment made on one of them (the booking's own first)
    unpaid: bool  # the provider's word that none can be paid any more, and none was


@define
class PaymentHandling:
    """The payment side of bookings, for webhooks, returning clients, cancellations and housekeeping."""

    changes: BookingChanges
    payments: PaymentGateway
    clock: Clock

    async def apply_payment_event(self, event: PaymentEvent) -> PaymentOutcome:
        """Idempotent and order-tolerant: any delivery order of one checkout's events ends the same."""
        if await self.changes.store.is_payment_event_processed(event.id):
            return PaymentOutcome.DUPLICATE
        outcome = await self._apply_payment(event)
        if outcome is PaymentOutcome.REFUSED:
            return outcome  # not recorded: a refused body must not make the genuine event a "duplicate"
        # Recorded after applying: a crash in between means a redelivery, which is a no-op anyway.
        await self.changes.store.mark_payment_event_processed(event.id, self.clock.now())
        return outcome

    async def _apply_payment(self, event: PaymentEvent) -> PaymentOutcome:
        if event.kind is PaymentEventKind.OTHER or event.booking_id is None:
            return PaymentOutcome.IGNORED
        booking = await self.changes.store.get(event.booking_id)
        if booking is None:
            log.warning("payment event %s names unknown booking", event.id)
            return PaymentOutcome.IGNORED
        decision = decide(booking, event)
        if isinstance(decision, Refuse):
            # Ids only: a forged or confused event is worth a look, and carries no personal data here.
            log.warning("payment event %s refused for booking %s: %s", event.id, booking.id, decision.reason)
            return PaymentOutcome.REFUSED
        if isinstance(decision, LearnPaymentFirst):
            booking = await self._learn_payment(booking)
            decision = decide_refund(booking, event)
        return await self.carry_out(booking, decision)

    async def check_checkout(self, booking: Booking, session_id: str | None = None) -> Booking:
        """The client is back from checkout, or looks at a booking still waiting for its payment: ask
        the provider about the booking's checkout and apply a payment it reports through the webhook's
        path, so a lost or late webhook does not keep a paid client waiting. A `session_id` that is
        not the booking's is ignored; so is a provider that cannot answer (the webhook or
        reconciliation still will). A `session_id` a move of the hold replaced is asked about too."""
        expected = booking.checkout_session_id
        waiting = booking.status is BookingStatus.PENDING_PAYMENT or booking.payment_check_due
        if expected is None or not waiting:
            return booking
        if session_id is not None:  # the booking's, or one a move replaced (paid before the move)
            known = (expected, *booking.replaced_checkouts)
            if not any(hmac.compare_digest(session_id.encode(), k.encode()) for k in known):
                return booking
            expected = session_id
        try:
            state = await self.payments.checkout_status(expected)
        except PaymentProviderError:
            log.warning("could not ask about the checkout of booking %s", booking.id)
            return booking
        if not state.paid or state.booking_id != booking.id:
            return booking
        await self.apply_payment_event(state)
        return await self.changes.booking(booking.id)

    async def carry_out(self, booking: Booking, decision: PaymentDecision) -> PaymentOutcome:
        """Carry out what `decide` made of a payment event, through the booking's transitions."""
        match decision:
            case Confirm(payment, reason):
                return await self._confirm(booking, payment, reason)
            case RefundLatePayment(payment, reason):
                if payment.amount != booking.price:
                    log.warning(
                        "booking %s paid %s, expected %s: refunding",
                        booking.id,
                        payment.amount,
                        booking.price,
                    )
                return await self._refund_late_payment(booking, payment, reason)
            case RefundSecondPayment(payment):
                return await self._refund_second_payment(booking, payment)
            case Release(reason):
                return await self.release(booking, reason)
            case EndPaymentCheck():
                await self.clear_payment_check(booking)
            case RecordRefund(reported_id, amount):
                await self.changes.apply(
                    booking,
                    lambda b: b.record_refund(
                        refund_id=reported_id,
                        amount=amount,
                        at=self.clock.now(),
                        reason="refund reported by the payment provider",
                    ),
                )
                return PaymentOutcome.REFUND_RECORDED
            case RefundedOutside(refund_id, total):
                await self.changes.apply(
                    booking, lambda b: b.refunded_outside(total, refund_id=refund_id, at=self.clock.now())
                )
                return PaymentOutcome.CANCELLED
            case RecordPartialRefund(total):
                await self.changes.apply(
                    booking, lambda b: b.record_partial_refund(total, at=self.clock.now())
                )
                return PaymentOutcome.REFUND_RECORDED
            case AwaitPayment():
                return PaymentOutcome.AWAITING_PAYMENT
            case Duplicate():
                return PaymentOutcome.DUPLICATE
            case Refuse():
                return PaymentOutcome.REFUSED
        return PaymentOutcome.IGNORED

    async def _confirm(self, booking: Booking, payment: ReceivedPayment, reason: str) -> PaymentOutcome:
        try:
            await self.changes.apply(
                booking, lambda b: b.confirm_payment(payment, at=self.clock.now(), reason=reason)
            )
        except SlotUnavailable:
            return await self._refund_late_payment(booking, payment, "late payment, slot taken meanwhile")
        except IllegalTransition:
            return PaymentOutcome.IGNORED  # it moved on meanwhile (e.g. refund due); nothing to confirm
        return PaymentOutcome.CONFIRMED

    async def _refund_late_payment(
        self, booking: Booking, payment: ReceivedPayment, reason: str
    ) -> PaymentOutcome:
        booking = await self.changes.apply(booking, lambda b: _release_step(b, self.clock.now(), reason))
        try:
            booking = await self.changes.apply(
                booking, lambda b: b.owe_late_refund(payment, at=self.clock.now(), reason=reason)
            )
        except IllegalTransition:
            return PaymentOutcome.IGNORED  # e.g. a confirmed booking: its money is where it belongs
        await self.issue_refund(booking)
        return PaymentOutcome.REFUND_REQUESTED

    async def _refund_second_payment(self, booking: Booking, payment: ReceivedPayment) -> PaymentOutcome:
        """Give back in full a payment made on another of the booking's checkouts after one was
        recorded (both pages of a moved hold paid); the booking keeps the first. Nothing to record on
        the booking, whose money is the first payment's: the provider holds this one's refund, under
        a key of its own. A provider failure propagates, so the webhook fails and is delivered again."""
        assert payment.payment_intent_id is not None  # decide_payment compared it with the booking's
        await self.payments.refund(
            payment.payment_intent_id,
            payment.amount,
            f"refund-{booking.id}-{payment.payment_intent_id}",
            booking.id,
        )
        log.warning("booking %s was paid twice; the second payment is refunded", booking.id)
        return PaymentOutcome.REFUND_REQUESTED

    async def release(self, booking: Booking, reason: str, *, check_due: bool = False) -> PaymentOutcome:
        if booking.status is not BookingStatus.PENDING_PAYMENT:
            return PaymentOutcome.IGNORED  # e.g. an expiry delivered after the payment
        await self.changes.apply(booking, lambda b: _release_step(b, self.clock.now(), reason, check_due))
        return PaymentOutcome.RELEASED

    async def _learn_payment(self, booking: Booking) -> Booking:
        """The refund overtook its payment's webhook (a delivery retried later): learn of the
        payment first. A provider that cannot answer fails this delivery; Stripe sends it again."""
        assert booking.checkout_session_id is not None  # decide asks only then
        state = await self.payments.checkout_status(booking.checkout_session_id)
        if not state.paid or refusal(state, booking) is not None:
            return booking
        await self.carry_out(booking, decide_payment(booking, state))
        return await self.changes.booking(booking.id)

    async def issue_refund(self, booking: Booking) -> Booking:
        """Send the refund a booking owes; a provider failure leaves it owed for `settle_refunds`."""
        if booking.refund_owed is None or booking.refund_id is not None or booking.payment_intent_id is None:
            return booking
        try:
            refund = await self.payments.refund(
                booking.payment_intent_id, booking.refund_owed, f"refund-{booking.id}", booking.id
            )
        except PaymentProviderError:
            log.warning("refund for booking %s failed; it stays owed and will be retried", booking.id)
            return booking
        return await self.changes.apply(
            booking,
            lambda b: (
                b.record_refund(
                    refund_id=refund.id,
                    amount=b.refunded_with(refund.amount),
                    at=self.clock.now(),
                    reason="refund issued",
                )
                if b.refund_id is None
                else (b, None)
            ),
        )

    async def check_payment(self, booking: Booking) -> PaymentOutcome:
        """Ask the provider about a booking that left pending payment without its word: close the
        checkout (and those a move replaced), apply a payment it reports, and stop asking once it
        has answered."""
        if booking.checkout_session_id is None:
            await self.clear_payment_check(booking)
            return PaymentOutcome.IGNORED
        closed = await self.close_checkouts(booking)
        if closed.paid is None and not closed.unpaid:
            return PaymentOutcome.IGNORED  # no word yet: asked again on the next run
        outcome = (
            await self.carry_out(booking, decide_payment(booking, closed.paid))
            if closed.paid is not None
            else PaymentOutcome.IGNORED
        )
        await self.clear_payment_check(await self.changes.booking(booking.id))
        return outcome

    async def close_checkouts(self, booking: Booking) -> ClosedCheckouts:
        """Close the booking's checkout and those a move of the hold replaced (the move closed
        them, unless the provider could not be asked then), and say what the provider says."""
        sessions = [booking.checkout_session_id, *booking.replaced_checkouts]
        states = [await self.close_checkout(session) for session in sessions if session is not None]
        paid = next((state for state in states if state is not None and state.paid), None)
        return ClosedCheckouts(paid, all(state is not None and state.closed_unpaid for state in states))

    async def close_checkout(self, session_id: str) -> PaymentEvent | None:
        """Expire the checkout if it is still open and return what the provider says of it then
        (paid if the client finished first, however late); None if the provider cannot answer."""
        try:
            return await self.payments.expire_checkout(session_id)
        except PaymentProviderError:
            log.warning("could not close checkout session %s; it stays to be checked", session_id)
            return None

    async def clear_payment_check(self, booking: Booking) -> None:
        await self.changes.apply(booking, lambda b: (b.clear_payment_check(at=self.clock.now()), None))


def _release_step(booking: Booking, at: datetime, reason: str, check_due: bool = False) -> Transition:
    """Release the hold if it still stands (a payment or an expiry may have come first)."""
    if booking.status is not BookingStatus.PENDING_PAYMENT:
        return booking, None
    return booking.release(at=at, reason=reason, check_due=check_due)
