"""Moving a booking to another time of the same service, by the client (with their cancel link)
or on the practitioner's side. The rule (who may, until when, how often) is the booking's
(`Booking.reschedule`); whether the new time is free, the store's, in the save that moves it
(`BookingStore.save`: the new span claimed and the old one released in one transaction)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from attrs import define

from booking_core.booking import Booking
from booking_core.booking_changes import BookingChanges
from booking_core.cancellation import practitioners_reason
from booking_core.errors import InvalidInput, RescheduleNotAllowed
from booking_core.offer import Offer, Practitioner, Service, ServiceChoiceError
from booking_core.ports import Clock
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


@define
class Rescheduling:
    changes: BookingChanges
    clock: Clock
    offered: OfferedSlots

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
        return await self.changes.apply(
            booking,
            lambda b: b.reschedule(
                slot, offer=offer, at=self.clock.now(), reason=reason, by_practitioner=by_practitioner
            ),
        )


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
