"""Calling a booking off, by the client (with the cancel link) or on the practitioner's side; the
rules (who may, what goes back) are the booking's (`Booking.cancel_by_client`, `cancel_by_practitioner`)."""

from __future__ import annotations

from attrs import define

from booking_core.booking import Booking, BookingStatus
from booking_core.booking_changes import BookingChanges
from booking_core.errors import InvalidInput
from booking_core.payment_handling import PaymentHandling
from booking_core.ports import Clock

MAX_CANCEL_REASON = 500
"""The most characters of a practitioner's reason for cancelling or moving a booking (it goes to the
client by e-mail)."""
PRACTITIONER_CANCELLED = "cancelled by the practitioner"
"""The reason recorded when the practitioner gives none."""


@define
class Cancellation:
    """Cancelling, then closing an open checkout and sending the refund the cancellation owes."""

    changes: BookingChanges
    payment_handling: PaymentHandling
    clock: Clock

    async def cancel_booking(self, booking_id: str, cancel_token: str) -> Booking:
        booking = await self.changes.booking(booking_id)
        booking.require_cancel_token(cancel_token)
        if booking.status is BookingStatus.CANCELLED:
            return booking
        policy = (await self.changes.practitioner_of(booking)).offer.cancellation
        cancelled = await self.changes.apply(
            booking, lambda b: b.cancel_by_client(at=self.clock.now(), policy=policy)
        )
        return await self._after_cancelling(cancelled)

    async def cancel_for_practitioner(
        self, booking_id: str, reason: str, *, after_start: bool = True
    ) -> Booking:
        """Cancel on the practitioner's side (e.g. their calendar took the slot): the client gets
        every cent back, whatever the cancellation policy says. `after_start=False`: asked by the
        practitioner or an operator, so a session that has started is refused
        (`Booking.cancel_by_practitioner`). `reason` (blank: none given) goes to the client."""
        reason = practitioners_reason(reason, PRACTITIONER_CANCELLED)
        booking = await self.changes.booking(booking_id)
        if booking.status is BookingStatus.CANCELLED:
            return booking
        cancelled = await self.changes.apply(
            booking,
            lambda b: b.cancel_by_practitioner(at=self.clock.now(), reason=reason, after_start=after_start),
        )
        return await self._after_cancelling(cancelled)

    async def _after_cancelling(self, cancelled: Booking) -> Booking:
        """Close the checkout of a booking cancelled before paying (a payment that beat the
        cancellation is refunded), then send the refund the cancellation owes."""
        if cancelled.payment_check_due:
            await self.payment_handling.check_payment(cancelled)
            cancelled = await self.changes.booking(cancelled.id)
        return await self.payment_handling.issue_refund(cancelled)


def practitioners_reason(reason: str, given_none: str) -> str:
    """The practitioner's reason for a change they make to a client's booking (cancelling, moving),
    stripped; `given_none` when blank. At most MAX_CANCEL_REASON characters (it goes to the client)."""
    reason = reason.strip()
    if len(reason) > MAX_CANCEL_REASON:
        raise InvalidInput({"reason": f"Give at most {MAX_CANCEL_REASON} characters."})
    return reason or given_none
