"""The "calcom" outbox channel: bookings confirmed here appear in Cal.com, cancellations follow.

Every delivery acts on the booking's current state in the store, not on the event it was handed:
events are retried, possibly after later changes, and a booking cancelled here by now must never
be created in Cal.com. Creation is made safe to repeat by tagging the Cal.com booking with our id.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from attrs import define

from booking_adapters.calcom.client import CalcomAttendee, CalcomClient, CalcomNotFound, CalcomSlotTaken
from booking_adapters.calcom.metrics import WRITEBACK_CONFLICTS
from booking_adapters.calcom.settings import CalcomSettings, SlotTakenPolicy
from booking_core import (
    CANCELLATIONS,
    CONFIRMATIONS,
    AvailabilityProviderError,
    Booking,
    BookingStatus,
    BookingStore,
    Clock,
    ConcurrentUpdate,
    OutboxItem,
    PractitionerCancellation,
    PractitionerDirectory,
)

log = logging.getLogger(__name__)

CHANNEL_NAME = "calcom"
METADATA_KEY = "bookingId"  # our booking id on the Cal.com booking
SLOT_TAKEN_REASON = "The practitioner's calendar has another appointment at this time."
_RELEVANT = CONFIRMATIONS | CANCELLATIONS
_SAVE_ATTEMPTS = 5


@define
class CalcomWriteback:
    """Reads bookings and practitioners, stores the Cal.com uid on a booking, and may start one use
    case: the practitioner-side cancellation of a booking whose time Cal.com has taken."""

    client: CalcomClient
    store: BookingStore
    directory: PractitionerDirectory
    clock: Clock
    cancellations: PractitionerCancellation
    settings: CalcomSettings
    name: str = CHANNEL_NAME

    async def deliver(self, item: OutboxItem) -> None:
        if item.event.trigger not in _RELEVANT:
            return
        booking = await self.store.get(item.event.booking_id)
        if booking is None:
            return
        practitioner = await self.directory.get(booking.practitioner_id, include_removed=True)
        if practitioner is None or practitioner.calcom_event_type_id is None:
            return
        if booking.status is BookingStatus.CONFIRMED:
            if booking.calendar_uid is None:
                await self._create(booking, practitioner.calcom_event_type_id, retried=item.attempts > 0)
        elif booking.calendar_uid is not None:
            await self._cancel(booking.calendar_uid, "Cancelled in the booking engine.")

    async def _create(self, booking: Booking, event_type_id: int, *, retried: bool) -> None:
        # After a failed attempt our booking may exist in Cal.com already (a timeout after it was made).
        uid = await self._ours_in_calcom(booking, event_type_id) if retried else None
        if uid is None:
            attendee = CalcomAttendee(
                booking.client.name, booking.client.email, booking.client_timezone, booking.client.phone
            )
            try:
                uid = await self.client.create_booking(
                    event_type_id, booking.slot.start, attendee, {METADATA_KEY: booking.id}
                )
            except CalcomSlotTaken:
                uid = await self._ours_in_calcom(booking, event_type_id)
                if uid is None:
                    await self._slot_taken(booking)
                    return
        await self._remember(booking.id, uid)

    async def _ours_in_calcom(self, booking: Booking, event_type_id: int) -> str | None:
        around = booking.slot.widen(timedelta(hours=1), timedelta(hours=1))
        for found in await self.client.bookings_between(event_type_id, around):
            metadata = found.get("metadata")
            if (
                isinstance(metadata, dict)
                and metadata.get(METADATA_KEY) == booking.id
                and found.get("status") != "cancelled"
                and isinstance(found.get("uid"), str)
            ):
                return str(found["uid"])
        return None

    async def _remember(self, booking_id: str, uid: str) -> None:
        """Store the Cal.com uid on the booking; undo the Cal.com side if it lost a race."""
        for _ in range(_SAVE_ATTEMPTS):
            current = await self.store.get(booking_id)
            if current is None or current.calendar_uid == uid:
                return
            if current.calendar_uid is not None:  # another worker's copy won: ours is a duplicate
                await self._cancel(uid, "Duplicate of an existing booking.")
                return
            try:
                await self.store.save(current, current.record_calendar_uid(uid, at=self.clock.now()), None)
            except ConcurrentUpdate:
                continue
            if current.status is not BookingStatus.CONFIRMED:  # cancelled here while we created it there
                await self._cancel(uid, "Cancelled in the booking engine.")
            return
        raise AvailabilityProviderError(f"booking {booking_id} kept changing; the Cal.com uid {uid} waits")

    async def _slot_taken(self, booking: Booking) -> None:
        policy = self.settings.slot_taken
        WRITEBACK_CONFLICTS.labels(policy.value).inc()
        log.warning("Cal.com has booking %s's slot taken meanwhile; policy %s", booking.id, policy.value)
        if policy is SlotTakenPolicy.FLAG:
            # Given up at once and listed among the outbox failures, for the practitioner to resolve.
            raise CalcomSlotTaken(f"Cal.com has booking {booking.id}'s time taken; resolve it by hand.")
        await self.cancellations.cancel_for_practitioner(booking.id, SLOT_TAKEN_REASON)

    async def _cancel(self, uid: str, reason: str) -> None:
        try:
            await self.client.cancel_booking(uid, reason)
        except CalcomNotFound:
            return  # deleted in Cal.com: nothing left to cancel
        except AvailabilityProviderError as error:
            if error.retryable or not await self._cancelled_in_calcom(uid):
                raise

    async def _cancelled_in_calcom(self, uid: str) -> bool:
        """A refused cancel is fine if the booking is cancelled there already (a repeated delivery)."""
        try:
            return (await self.client.get_booking(uid)).get("status") == "cancelled"
        except CalcomNotFound:
            return True
