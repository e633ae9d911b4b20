"""What the composition root opens once per process: the shared client, the source, the channel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
from attrs import define

from booking_adapters.calcom.client import CalcomClient, Sleep, open_http
from booking_adapters.calcom.settings import CalcomSettings
from booking_adapters.calcom.source import CalcomSource
from booking_adapters.calcom.writeback import CalcomWriteback
from booking_core import (
    AvailabilitySource,
    BookingStore,
    Clock,
    PractitionerCancellation,
    PractitionerDirectory,
)


@define
class Calcom:
    settings: CalcomSettings
    client: CalcomClient
    monotonic: Callable[[], float] = time.monotonic

    def source(self, schedule: AvailabilitySource) -> CalcomSource:
        """The availability source for every practitioner; build it once (it holds the cache)."""
        return CalcomSource(self.client, schedule, self.settings, self.monotonic)

    def channel(
        self,
        *,
        store: BookingStore,
        directory: PractitionerDirectory,
        clock: Clock,
        cancellations: PractitionerCancellation,
    ) -> CalcomWriteback:
        """The "calcom" channel for OutboxRelay; `cancellations` is the booking service in production."""
        return CalcomWriteback(self.client, store, directory, clock, cancellations, self.settings)

    async def aclose(self) -> None:
        await self.client.http.aclose()


async def open_calcom(
    settings: CalcomSettings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Sleep = asyncio.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Calcom:
    """Open the one HTTP client of the process; `transport`, `sleep` and `monotonic` are for tests."""
    return Calcom(settings, CalcomClient(open_http(settings, transport), settings, sleep), monotonic)
