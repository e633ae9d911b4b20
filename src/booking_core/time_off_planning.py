"""The practitioner's time off: adding a block (refused over live bookings), listing, removing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from attrs import frozen

from booking_core.errors import InvalidInput, NotFound
from booking_core.ports import BookingChangeListener, BookingStore, Clock, IdGenerator
from booking_core.time_off import MAX_TIME_OFF_NOTE, TimeOff
from booking_core.timerange import TimeRange

_END_OF_TIME = datetime.max.replace(tzinfo=UTC)


@frozen
class TimeOffPlanning:
    store: BookingStore
    listener: BookingChangeListener
    clock: Clock
    ids: IdGenerator

    async def add(self, practitioner_id: str, span: TimeRange, note: str = "") -> TimeOff:
        """Block `span`; TimeOffConflicts if live bookings occupy part of it (the store decides,
        atomically with bookings racing for the same time)."""
        now = self.clock.now()
        problems: dict[str, str] = {}
        if span.end <= now:
            problems["end"] = "Time off must end in the future."
        if len(note) > MAX_TIME_OFF_NOTE:
            problems["note"] = f"A note may be at most {MAX_TIME_OFF_NOTE} characters long."
        if problems:
            raise InvalidInput(problems)
        time_off = TimeOff(self.ids.new_time_off_id(), practitioner_id, span, now, note)
        await self.store.add_time_off(time_off, now)
        await self.listener.time_off_changed(time_off)
        return time_off

    async def upcoming(self, practitioner_id: str) -> Sequence[TimeOff]:
        """The practitioner's time off not yet over, by start."""
        return await self.store.time_off(practitioner_id, TimeRange(self.clock.now(), _END_OF_TIME))

    async def remove(self, practitioner_id: str, time_off_id: str) -> TimeOff:
        removed = await self.store.remove_time_off(practitioner_id, time_off_id)
        if removed is None:
            raise NotFound(f"There is no time off {time_off_id!r}.")
        await self.listener.time_off_changed(removed)
        return removed
