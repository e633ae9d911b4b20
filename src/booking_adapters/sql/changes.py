"""What changed in any process: PostgreSQL's LISTEN on `booking_changes` and `practitioner_changes`.

Triggers (migration 0002) notify a practitioner's id at the commit of every change to their
bookings, or to the practitioner, whoever made it. A process that caches practitioners or
availability listens here and drops what it cached for that practitioner. Notifications sent while
the listening connection is down are lost, so every connect and every loss is reported as a gap
(drop everything), and `live` says whether a cache may be trusted right now.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

BOOKINGS_CHANNEL = "booking_changes"
PRACTITIONERS_CHANNEL = "practitioner_changes"
HEARTBEAT_SECONDS = 15.0  # a silently dropped connection is noticed within this
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)  # after each failed attempt in a row, then the last


def listening_conninfo(url: str) -> str:
    """psycopg's connection string for a SQLAlchemy PostgreSQL URL (any driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class ChangeFeed:
    """Calls `on_bookings(practitioner_id)` when a practitioner's bookings changed,
    `on_practitioner(practitioner_id)` when the practitioner did, and `on_gap()` whenever some may
    have been missed (on connecting, after a loss). Run `run()` as a background task."""

    def __init__(
        self,
        conninfo: str,
        *,
        on_bookings: Callable[[str], None],
        on_practitioner: Callable[[str], None],
        on_gap: Callable[[], None],
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        self._conninfo = conninfo
        self._handlers = {BOOKINGS_CHANNEL: on_bookings, PRACTITIONERS_CHANNEL: on_practitioner}
        self._on_gap = on_gap
        self._heartbeat_seconds = heartbeat_seconds
        self.live = False

    async def run(self) -> None:
        failures = 0  # failed attempts in a row
        while True:
            try:
                await self._listen()
            except (psycopg.Error, OSError) as error:
                if self.live:
                    failures = 0
                    log.warning("change feed lost (%s); availability is not cached meanwhile", error)
                elif failures == 0:
                    log.warning("change feed cannot connect (%s); retrying", error)
            finally:
                self.live = False
                self._on_gap()
            await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
            failures += 1

    async def _listen(self) -> None:
        connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True, connect_timeout=5)
        async with connection:
            for channel in self._handlers:
                await connection.execute(f"LISTEN {channel}")
            self.live = True
            self._on_gap()  # whatever changed before LISTEN took effect was not heard
            log.info("change feed listening")
            while True:
                async for notification in connection.notifies(timeout=self._heartbeat_seconds):
                    self._handlers[notification.channel](notification.payload)
                await connection.execute("SELECT 1")  # raises if the connection died silently
