"""Sends the reminders that are due, each once, whichever worker gets to it first (the outbox
relay runs it with its channels: `OutboxRelay.reminders`)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from attrs import define, field

from booking_core.booking import Booking
from booking_core.errors import ProviderError
from booking_core.offer import Practitioner
from booking_core.ports import Clock, PractitionerDirectory, ReminderLedger
from booking_core.reminders import Reminder

log = logging.getLogger(__name__)

# A failed reminder is tried again this much later, until its session starts.
RETRY_DELAY = timedelta(minutes=5)
EVERYTHING_AHEAD = timedelta(days=100 * 366)  # what `planned` lists: every booking ahead


class ReminderSender(Protocol):
    @property
    def channel(self) -> str:
        """The channel it sends on (Reminder.channel)."""
        ...

    async def send(self, reminder: Reminder, booking: Booking, practitioner: Practitioner) -> None:
        """Send one reminder, or raise. A send interrupted by a crash is repeated: the message
        should carry an identity fixed by the reminder, so that receivers can drop the copy."""
        ...


@define
class ReminderRelay:
    ledger: ReminderLedger
    directory: PractitionerDirectory
    sender: ReminderSender
    clock: Clock
    # At most one look for due reminders this often (the outbox relay may pass many times a second
    # while bookings change; a reminder is due for hours). Zero: every pass.
    every: timedelta = timedelta(0)
    _looked_at: datetime | None = field(default=None, init=False)

    async def planned(self) -> list[Reminder]:
        """Every reminder of a confirmed booking ahead not sent yet (due or to come), by due time."""
        unsent = await self._unsent(self.clock.now(), EVERYTHING_AHEAD)
        return [reminder for reminder, _booking, _practitioner in unsent]

    async def run_once(self, limit: int = 50) -> tuple[int, int]:
        """Send up to `limit` due reminders: (sent, failed)."""
        now = self.clock.now()
        if self._looked_at is not None and self._looked_at <= now < self._looked_at + self.every:
            return 0, 0
        self._looked_at = now
        due = [each for each in await self._unsent(now) if each[0].is_due(now)][:limit]
        if len(due) == limit:
            self._looked_at = None  # more may be due: the next pass looks again
        if not due:
            return 0, 0
        of = {reminder: (booking, practitioner) for reminder, booking, practitioner in due}
        sent: list[Reminder] = []
        failed = 0
        try:
            for reminder in await self.ledger.claim(list(of), now):
                if await self._send(reminder, *of[reminder]):
                    sent.append(reminder)
                else:
                    failed += 1
        finally:
            if sent:  # within the lease; lost by a crash before this, they go again (see ReminderSender)
                await self.ledger.mark_sent(sent, self.clock.now())
        return len(sent), failed

    async def _unsent(
        self, now: datetime, within: timedelta | None = None
    ) -> list[tuple[Reminder, Booking, Practitioner]]:
        """The reminders not sent yet of the confirmed bookings starting within `within` (None: the
        longest offset of any practitioner), by due time, with their booking and practitioner (a
        removed practitioner has no booking ahead)."""
        practitioners = {p.id: p for p in await self.directory.list()}
        longest = max((o for p in practitioners.values() for o in p.offer.reminder_offsets), default=None)
        if longest is None:
            return []
        unsent = [
            (reminder, upcoming.booking, practitioner)
            for upcoming in await self.ledger.upcoming(now, within or longest)
            if (practitioner := practitioners.get(upcoming.booking.practitioner_id)) is not None
            for reminder in upcoming.unsent(practitioner.offer.reminder_offsets)
        ]
        return sorted(unsent, key=lambda each: (each[0].due_at, each[0].booking_id, each[0].offset))

    async def _send(self, reminder: Reminder, booking: Booking, practitioner: Practitioner) -> bool:
        try:
            await self.sender.send(reminder, booking, practitioner)
        except Exception as error:  # one failure must not stop the other reminders
            now = self.clock.now()
            # a provider's message names no address; other errors' might: only their type is logged
            message = str(error) if isinstance(error, ProviderError) else type(error).__name__
            await self.ledger.mark_failed(reminder, now, message, now + RETRY_DELAY)
            log.warning(
                "reminder of booking %s (%s before its start) failed: %s; retrying in %s",
                reminder.booking_id,
                reminder.offset,
                message,
                RETRY_DELAY,
            )
            return False
        return True
