"""Delivers the outbox: every history event, per channel, at least once, with retries and backoff;
and the reminders that are due (booking_core.reminder_relay).

Channels (e-mail, outgoing webhooks, the Cal.com write-back) decide what an event means to them;
the relay only moves items and remembers failures. Receivers deduplicate by event identity.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from attrs import define, frozen

from booking_core.errors import ProviderError
from booking_core.ports import Clock, Outbox, OutboxItem
from booking_core.reminder_relay import ReminderRelay

log = logging.getLogger(__name__)


class Channel(Protocol):
    name: str

    async def deliver(self, item: OutboxItem) -> None:
        """Deliver one event, or raise ProviderError (`retryable=False` to give up at once).
        Must be idempotent: an item can be delivered again after a crash."""
        ...


@frozen
class RetryPolicy:
    """Exponential backoff from `first_delay`, capped at `max_delay`; give up once the event is
    older than `give_up_after` (subscribers expect retries for at least a day)."""

    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=48)

    def next_attempt(self, failed_attempts: int, event_at: datetime, now: datetime) -> datetime | None:
        # Cap the exponent before multiplying: after a day of failures 2**n overflows timedelta.
        doublings = min(max(0, failed_attempts - 1), 32)
        delay = min(self.first_delay * 2**doublings, self.max_delay)
        retry_at = now + delay
        return retry_at if retry_at - event_at <= self.give_up_after else None


@frozen
class RelayReport:
    delivered: int = 0
    failed: int = 0
    gave_up: int = 0


@define
class OutboxRelay:
    outbox: Outbox
    channels: Sequence[Channel]
    clock: Clock
    retry: RetryPolicy = RetryPolicy()
    reminders: ReminderRelay | None = None  # the reminders due, sent in the same passes

    async def run_once(self, limit: int = 50) -> RelayReport:
        delivered = failed = gave_up = 0
        if self.reminders is not None:
            delivered, failed = await self.reminders.run_once(limit)
        for channel in self.channels:
            done: list[int] = []  # delivered, recorded together (on SQL: one statement)
            try:
                for item in await self.outbox.claim(channel.name, self.clock.now(), limit=limit):
                    outcome = await self._deliver(channel, item)
                    if outcome == "delivered":
                        done.append(item.seq)
                    delivered += outcome == "delivered"
                    failed += outcome == "failed"
                    gave_up += outcome == "gave_up"
            finally:
                if done:
                    # Within the claim's lease; lost by a crash before this, they are delivered
                    # again, which channels must tolerate anyway (at least once).
                    await self.outbox.mark_delivered(channel.name, done, self.clock.now())
        return RelayReport(delivered, failed, gave_up)

    async def _deliver(self, channel: Channel, item: OutboxItem) -> str:
        try:
            await channel.deliver(item)
        except Exception as error:  # any failure of one delivery must not stop the others
            now = self.clock.now()
            retryable = not isinstance(error, ProviderError) or error.retryable
            retry_at = self.retry.next_attempt(item.attempts + 1, item.event.at, now) if retryable else None
            message = str(error) if isinstance(error, ProviderError) else type(error).__name__
            await self.outbox.mark_failed(channel.name, item.seq, now, message, retry_at)
            log.warning(
                "delivery on %s of event %d (booking %s) failed: %s; %s",
                channel.name,
                item.seq,
                item.event.booking_id,
                message,
                f"retrying at {retry_at.isoformat()}" if retry_at else "giving up",
            )
            return "failed" if retry_at else "gave_up"
        return "delivered"
