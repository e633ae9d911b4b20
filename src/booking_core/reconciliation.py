"""Housekeeping, run periodically: holds past their expiry, payments released without the
provider's word, refunds still owed."""

from __future__ import annotations

from attrs import define, frozen

from booking_core.booking import LAPSED_HOLD, Booking
from booking_core.booking_changes import BookingChanges
from booking_core.payment_decision import decide_payment
from booking_core.payment_handling import PaymentHandling, PaymentOutcome
from booking_core.ports import Clock


@frozen
class ReconcileReport:
    holds_checked: int
    confirmed: int
    released: int
    refunds_issued: int
    payments_checked: int = 0  # bookings released without the provider's word, asked about


@define
class Reconciliation:
    """What lost webhooks, unreachable providers and lapsed holds leave behind, settled."""

    changes: BookingChanges
    payment_handling: PaymentHandling
    clock: Clock

    async def release_lapsed_holds(self) -> ReconcileReport:
        """Ask the provider about every hold past its expiry and apply the answer: a lost webhook
        confirms or refunds, an unpaid checkout is expired and its hold released."""
        holds = await self.changes.store.lapsed_holds(self.clock.now())
        confirmed = released = 0
        for hold in holds:
            outcome = await self._settle_lapsed(hold)
            confirmed += outcome is PaymentOutcome.CONFIRMED
            released += outcome is PaymentOutcome.RELEASED
        return ReconcileReport(len(holds), confirmed, released, 0)

    async def _settle_lapsed(self, hold: Booking) -> PaymentOutcome:
        if hold.checkout_session_id is None:  # checkout never started: nothing could be paid
            return await self.payment_handling.release(hold, LAPSED_HOLD)
        closed = await self.payment_handling.close_checkouts(hold)  # a page a move replaced too
        if closed.paid is not None:
            return await self.payment_handling.carry_out(hold, decide_payment(hold, closed.paid))
        # Without the provider's word (unreachable, or a delayed method still on its way) the hold
        # is released all the same, and stays to be checked: a payment may still be reported.
        return await self.payment_handling.release(hold, LAPSED_HOLD, check_due=not closed.unpaid)

    async def check_payments(self) -> tuple[int, int]:
        """Ask the provider about every booking released without its word (`payment_check_due`) and
        apply the answer as the webhook would: paid -> confirmed if the slot is still free, else
        refunded; still open -> expired; expired unpaid -> nothing left to check. Returns how many
        were asked about and how many of those were confirmed."""
        due = await self.changes.store.payment_checks_due()
        confirmed = 0
        for booking in due:
            confirmed += await self.payment_handling.check_payment(booking) is PaymentOutcome.CONFIRMED
        return len(due), confirmed

    async def settle_refunds(self) -> int:
        issued = 0
        for booking in await self.changes.store.refunds_due():
            issued += (await self.payment_handling.issue_refund(booking)).refund_id is not None
        return issued

    async def reconcile(self) -> ReconcileReport:
        holds = await self.release_lapsed_holds()
        checked, confirmed = await self.check_payments()
        refunds = await self.settle_refunds()
        return ReconcileReport(
            holds.holds_checked, holds.confirmed + confirmed, holds.released, refunds, checked
        )
