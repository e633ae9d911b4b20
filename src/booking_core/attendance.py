"""After the session: housekeeping records each confirmed session whose slot ended as completed, and
the practitioner marks a client who did not come as a no-show, or takes that back. The rules (when,
from which status) are the booking's (`Booking.complete`, `mark_no_show`, `undo_no_show`)."""

from __future__ import annotations

import logging

from attrs import define

from booking_core.booking import Booking
from booking_core.booking_changes import BookingChanges, Step
from booking_core.errors import BookingError, UnknownBooking
from booking_core.ports import Clock

log = logging.getLogger(__name__)

BATCH = 100
MAX_BATCHES = 20  # a round records at most BATCH * MAX_BATCHES sessions; the next round goes on


@define
class Attendance:
    changes: BookingChanges
    clock: Clock

    async def complete_ended_sessions(self, batch: int = BATCH, max_batches: int = MAX_BATCHES) -> int:
        """Record confirmed sessions whose slot ended as completed, `batch` at a time; how many.
        A booking that cannot be recorded now (a concurrent change) is left for the next round."""
        completed = 0
        for _ in range(max_batches):
            ended = await self.changes.store.sessions_ended(self.clock.now(), limit=batch)
            for booking in ended:
                try:
                    after = await self.changes.apply(booking, lambda b: b.complete(at=self.clock.now()))
                except BookingError as error:
                    log.warning("booking %s not recorded as completed: %s", booking.id, error.code)
                    continue
                completed += after is not booking
            if len(ended) < batch:
                break
        return completed

    async def mark_no_show(self, practitioner_id: str, booking_id: str) -> Booking:
        return await self._record(practitioner_id, booking_id, lambda b: b.mark_no_show(at=self.clock.now()))

    async def undo_no_show(self, practitioner_id: str, booking_id: str) -> Booking:
        return await self._record(practitioner_id, booking_id, lambda b: b.undo_no_show(at=self.clock.now()))

    async def _record(self, practitioner_id: str, booking_id: str, step: Step) -> Booking:
        """`step` on one of the practitioner's bookings; another's is UnknownBooking (404)."""
        booking = await self.changes.booking(booking_id)
        if booking.practitioner_id != practitioner_id:
            raise UnknownBooking()
        return await self.changes.apply(booking, step)
