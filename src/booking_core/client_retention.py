"""Keeping clients' details no longer than needed: `CLIENT_DATA_RETENTION_DAYS` after a session ended,
its booking is anonymised as an erasure would (client_erasure.py); unset, nothing is. Run by the
periodic housekeeping, in bounded batches."""

from __future__ import annotations

from datetime import timedelta

from attrs import frozen

from booking_core.client_erasure import ClientErasure
from booking_core.ports import ClientDataStore, Clock

BATCH = 100
MAX_BATCHES = 10  # a round anonymises at most BATCH * MAX_BATCHES bookings; the next goes on


@frozen
class ClientDataRetention:
    client_data: ClientDataStore
    erasure: ClientErasure
    clock: Clock

    async def anonymise_expired(
        self, retention: timedelta, batch: int = BATCH, max_batches: int = MAX_BATCHES
    ) -> int:
        """Anonymise the bookings whose session ended `retention` ago or longer; how many."""
        anonymised = 0
        for _ in range(max_batches):
            due = await self.client_data.identified_sessions_ended(self.clock.now() - retention, batch)
            if not due:
                break
            anonymised += (await self.erasure.anonymise(due)).bookings
            if len(due) < batch:
                break
        return anonymised
