"""The one way bookings change: a step computes the next booking (one of `Booking`'s typed
transitions), the store saves it with a compare-and-set on `version`, a concurrent change reloads
and applies the step again, and listeners hear of the transition after the commit."""

from __future__ import annotations

import logging
from collections.abc import Callable

from attrs import define

from booking_core.booking import LIVE_STATUSES, Booking, BookingEvent, Transition, claims_a_span
from booking_core.booking_limits import BookingLimit
from booking_core.errors import ConcurrentUpdate, UnknownBooking, UnknownPractitioner
from booking_core.offer import Practitioner
from booking_core.ports import BookingChangeListener, BookingStore, PractitionerDirectory

log = logging.getLogger(__name__)

_SAVE_ATTEMPTS = 5

Step = Callable[[Booking], Transition]


@define
class BookingChanges:
    """Every use case changes bookings through this; it also reads them as the use cases need."""

    store: BookingStore
    directory: PractitionerDirectory
    notifier: BookingChangeListener

    async def practitioner_of(self, booking: Booking) -> Practitioner:
        """The booking's practitioner, even if removed since: their past bookings still name them."""
        practitioner = await self.directory.get(booking.practitioner_id, include_removed=True)
        if practitioner is None:
            raise UnknownPractitioner(booking.practitioner_id)
        return practitioner

    async def booking(self, booking_id: str) -> Booking:
        booking = await self.store.get(booking_id)
        if booking is None:
            raise UnknownBooking()
        return booking

    async def apply(self, booking: Booking, step: Step) -> Booking:
        """Apply `step` and save; on a concurrent change reload and apply it again."""
        for _ in range(_SAVE_ATTEMPTS):
            after, event = step(booking)
            if after is booking:
                return booking
            try:
                await self.store.save(booking, after, event, await self._limits_claimed(booking, after))
            except ConcurrentUpdate:
                booking = await self.booking(booking.id)
                continue
            if event is not None:
                await self.notify(after, event)
            return after
        raise ConcurrentUpdate("The booking is changing too often; please try again.")

    async def _limits_claimed(self, before: Booking, after: Booking) -> tuple[BookingLimit, ...]:
        """The practitioner's limits the store checks the change against (BookingStore.save): none
        unless it claims time (`claims_a_span`). A late payment counts against every limit of its
        start, as a new booking; a move only against those of its new start that its old start
        did not count against already (moving within a day adds nothing to that day's count)."""
        if not claims_a_span(before, after):
            return ()
        practitioner = await self.practitioner_of(before)
        limits = practitioner.limits_for(after.service_id, after.slot.start)
        if before.status not in LIVE_STATUSES:
            return limits
        return tuple(limit for limit in limits if not limit.counts(before.slot.start, before.service_id))

    async def notify(
        self, booking: Booking, event: BookingEvent, practitioner: Practitioner | None = None
    ) -> None:
        try:
            if practitioner is None:
                practitioner = await self.practitioner_of(booking)
            await self.notifier.booking_changed(booking, event, practitioner)
        except Exception:  # a notification must never undo a committed booking change
            log.exception("notifying about booking %s (%s) failed", booking.id, event.trigger)
