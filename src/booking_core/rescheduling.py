"""Moving a booking to another time of the same service, by the client (with their cancel link)
or on the practitioner's side. The rule (who may, until when, how often) is the booking's
(`Booking.reschedule`); whether the new time is free, the store's, in the save that moves it
(`BookingStore.save`: the new span claimed and the old one released in one transaction).

An unpaid hold's move also replaces its Checkout Session, whose page names the time: the old page
would sell the client a label that is no longer true (see `_move_unpaid` for the order of steps)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from attrs import define

from booking_core.booking import Booking, BookingStatus, Transition
from booking_core.booking_changes import BookingChanges
from booking_core.cancellation import practitioners_reason
from booking_core.checkouts import checkout_for, move_checkout_key
from booking_core.errors import InvalidInput, PaymentProviderError, RescheduleNotAllowed
from booking_core.offer import Offer, Practitioner, Service, ServiceChoiceError
from booking_core.payment import CheckoutSession
from booking_core.payment_handling import PaymentHandling
from booking_core.ports import Clock, IdGenerator
from booking_core.start_time import start_time_problem
from booking_core.timerange import TimeRange

CLIENT_MOVED = "moved by the client"
"""The reason recorded for a client's move."""
PRACTITIONER_MOVED = "moved by the practitioner"
"""The reason recorded when the practitioner moves a booking and gives none."""

# The slots of a service its practitioner offers starting within a window (schedule or Cal.com,
# minimum notice and horizon) to the booking moving there, asked afresh, bookings not taken out:
# the store decides those, the moving booking's own old span not counting against it.
OfferedSlots = Callable[[Practitioner, Service, TimeRange, Booking], Awaitable[Sequence[TimeRange]]]
# The move of a booking, with the checkout replacing its own (None: it keeps its own).
Move = Callable[[Booking, CheckoutSession | None], Transition]

log = logging.getLogger(__name__)


@define
class Rescheduling:
    changes: BookingChanges
    clock: Clock
    offered: OfferedSlots
    payment_handling: PaymentHandling
    ids: IdGenerator

    async def reschedule_booking(self, booking_id: str, cancel_token: str, start: datetime) -> Booking:
        """The client moves their booking to `start`, a start the practitioner offers for its
        service (else InvalidInput naming `start`), within the practitioner's ReschedulePolicy
        (else RescheduleNotAllowed). SlotUnavailable when the time is taken; nothing changes then."""
        booking = await self.changes.booking(booking_id)
        booking.require_cancel_token(cancel_token)
        return await self._move(booking, start, CLIENT_MOVED, by_practitioner=False)

    async def reschedule_for_practitioner(
        self, booking_id: str, start: datetime, reason: str = ""
    ) -> Booking:
        """The practitioner moves a booking to `start`: bound neither by the reschedule notice and
        the number of moves nor by their own schedule, minimum notice and horizon (they may agree
        any time with their client), only by the time being free (no booking, no time off, their
        limits) and still to come. `reason` (blank: none given) goes to the client."""
        reason = practitioners_reason(reason, PRACTITIONER_MOVED)
        booking = await self.changes.booking(booking_id)
        return await self._move(booking, start, reason, by_practitioner=True)

    async def _move(
        self, booking: Booking, start: datetime, reason: str, *, by_practitioner: bool
    ) -> Booking:
        if problem := start_time_problem(start):
            raise InvalidInput({"start": problem})
        practitioner = await self.changes.practitioner_of(booking)
        service, offer = _service_of(practitioner, booking)
        slot = TimeRange.of(start, booking.slot.duration)  # the length booked (and paid for)
        now = self.clock.now()
        # The rule first: a client who may not move at all hears that, not that a time is taken.
        booking.reschedule(slot, offer=offer, at=now, reason=reason, by_practitioner=by_practitioner)
        if slot != booking.slot:
            if by_practitioner:
                if start <= now:
                    raise InvalidInput({"start": "Choose a time that is still to come."})
            elif slot not in await self.offered(practitioner, service, slot, booking):
                raise InvalidInput(
                    {"start": "This time is not offered for this session; choose a listed one."}
                )

        def move(moving: Booking, checkout: CheckoutSession | None) -> Transition:
            return moving.reschedule(
                slot,
                offer=offer,
                at=self.clock.now(),
                reason=reason,
                by_practitioner=by_practitioner,
                checkout=checkout,
            )

        if slot == booking.slot or not _pays_at_checkout(booking):
            return await self.changes.apply(booking, lambda b: move(b, None))
        return await self._move_unpaid(booking, practitioner, service, slot, move)

    async def _move_unpaid(
        self, booking: Booking, practitioner: Practitioner, service: Service, slot: TimeRange, move: Move
    ) -> Booking:
        """Move a hold waiting for its payment, and replace its checkout with one naming `slot`.

        The order keeps the slot from being sold twice and the payment from being lost, whatever
        fails when. 1. The new checkout is opened first: if the provider cannot open one, the move
        is refused (PaymentProviderError) and nothing has changed; the old time and page stand.
        2. The move and the new checkout are saved together: the store decides the new time
        atomically, as for any move; refused (the time was taken meanwhile), the new page, whose
        address nobody saw, is closed. 3. Only then is the old page closed: closed first, a refused
        save or an unopenable new page would leave the hold with nothing to pay at. If the client
        paid there just before, that payment confirms the booking at its new time (and the new
        page is closed); if the provider does not answer, the old page stays open until the
        hold's expiry, and a payment there still confirms the booking (`replaced_checkouts` keeps
        its id). Paid on both pages, the booking keeps one payment and refunds the other."""
        payments = self.payment_handling.payments
        replaced = booking.checkout_session_id
        assert replaced is not None  # _pays_at_checkout
        key = move_checkout_key(booking, self.ids.secret_token())
        replacement = await payments.start_checkout(checkout_for(booking, practitioner, service, slot, key))
        try:
            moved = await self.changes.apply(booking, lambda b: move(b, replacement))
        except Exception:
            await self._close_unneeded(replacement.id)
            raise
        if moved.checkout_session_id != replacement.id:  # paid meanwhile: the new page is not needed
            await self._close_unneeded(replacement.id)
            return moved
        state = await self.payment_handling.close_checkout(replaced)
        if state is None or not state.paid:
            return moved  # closed unpaid; or not now (logged), see above
        await self.payment_handling.apply_payment_event(state)  # paid just before the move
        await self._close_unneeded(replacement.id)
        return await self.changes.booking(booking.id)

    async def _close_unneeded(self, session_id: str) -> None:
        """Close a checkout the booking does not need (it is paid, or did not move); a payment made
        there meanwhile goes back as a second payment. The provider's own events do the same later
        if it cannot be asked now."""
        state = await self.payment_handling.close_checkout(session_id)
        if state is None or not state.paid:
            return
        try:
            await self.payment_handling.apply_payment_event(state)
        except PaymentProviderError:
            log.warning("could not refund a second payment of checkout %s now; its webhook will", session_id)


def _pays_at_checkout(booking: Booking) -> bool:
    """A hold waiting for its payment at a checkout page, which names its time."""
    return booking.status is BookingStatus.PENDING_PAYMENT and booking.checkout_session_id is not None


def _service_of(practitioner: Practitioner, booking: Booking) -> tuple[Service, Offer]:
    """The booking's service as the practitioner offers it now (its buffers give the new span)."""
    try:
        service = practitioner.service(booking.service_id)
    except ServiceChoiceError:
        raise RescheduleNotAllowed(
            "This service is no longer offered, so the session cannot be moved; "
            "please contact the practitioner."
        ) from None
    return service, practitioner.offer_for(service)
