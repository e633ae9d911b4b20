"""The "calcom" outbox channel: bookings confirmed here appear in Cal.com, moves and cancellations
follow.

Every delivery acts on the booking's current state in the store, not on the event it was handed:
events are retried, possibly after later changes, and a booking cancelled here by now must never
be created in Cal.com. Creation is made safe to repeat by tagging the Cal.com booking with our id;
a move, by following Cal.com's link from the booking it moved to the one it made.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

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
    Trigger,
)

log = logging.getLogger(__name__)

CHANNEL_NAME = "calcom"
METADATA_KEY = "bookingId"  # our booking id on the Cal.com booking
SLOT_TAKEN_REASON = "The practitioner's calendar has another appointment at this time."
MOVED_REASON = "Moved in the booking engine."
_RELEVANT = CONFIRMATIONS | CANCELLATIONS | {Trigger.RESCHEDULED}
_SAVE_ATTEMPTS = 5
_MOVES_FOLLOWED = 20  # links from a moved Cal.com booking to the next, at most (each is a GET)


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
            elif item.event.trigger is Trigger.RESCHEDULED:
                await self._move(booking, booking.calendar_uid)
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

    async def _move(self, booking: Booking, uid: str) -> None:
        """Bring the Cal.com booking to the booking's time here (where it is now: it may have moved
        more than once). Cal.com answers a move with a new booking under a new uid, recorded here."""
        latest = await self._latest_in_calcom(uid)
        if latest is None:
            return  # deleted or cancelled in Cal.com: nothing there to move
        if _start_of(latest) == booking.slot.start:  # moved already (a repeated delivery)
            moved_to = str(latest["uid"])
        else:
            try:
                moved_to = await self.client.reschedule_booking(
                    str(latest["uid"]), booking.slot.start, MOVED_REASON
                )
            except CalcomSlotTaken:
                await self._slot_taken(booking)
                return
        if moved_to != uid:
            await self._remember(booking.id, moved_to, replacing=uid)

    async def _latest_in_calcom(self, uid: str) -> Mapping[str, Any] | None:
        """The Cal.com booking `uid` ended as: itself, or the one its moves led to (an earlier
        delivery may have moved it and died before recording the new uid); None if cancelled."""
        for _ in range(_MOVES_FOLLOWED):
            try:
                found = await self.client.get_booking(uid)
            except CalcomNotFound:
                return None
            following = found.get("rescheduledToUid")
            if not isinstance(following, str) or not following:
                return None if found.get("status") == "cancelled" else found
            uid = following
        raise AvailabilityProviderError("a Cal.com booking moved more often than followed", retryable=False)

    async def _remember(self, booking_id: str, uid: str, *, replacing: str | None = None) -> None:
        """Store the Cal.com uid on the booking (`replacing` the one a move left behind); undo the
        Cal.com side if it lost a race."""
        for _ in range(_SAVE_ATTEMPTS):
            current = await self.store.get(booking_id)
            if current is None or current.calendar_uid == uid:
                return
            if current.calendar_uid not in (None, replacing):  # another worker's copy won: a duplicate
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


def _start_of(found: Mapping[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(found.get("start")).replace("Z", "+00:00"))
    except ValueError:
        return None
