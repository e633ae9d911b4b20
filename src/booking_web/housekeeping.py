"""The periodic work every process does while it serves: settle lapsed holds and owed refunds."""

from __future__ import annotations

import logging

import anyio

from booking_core import BookingService

log = logging.getLogger(__name__)


async def keep_house(service: BookingService, interval_seconds: float) -> None:
    """Reconcile every `interval_seconds` until cancelled. Safe in several workers at once: the store
    serialises each change, and a repeated reconcile finds nothing left to do."""
    while True:
        await anyio.sleep(interval_seconds)
        try:
            report = await service.reconcile()
        except Exception:  # one failed round must not end housekeeping; the next one retries
            log.exception("housekeeping round failed")
            continue
        if report.holds_checked or report.payments_checked or report.refunds_issued:
            log.info(
                "housekeeping: %d lapsed holds, %d released bookings asked about (%d confirmed, "
                "%d released), %d refunds issued",
                report.holds_checked,
                report.payments_checked,
                report.confirmed,
                report.released,
                report.refunds_issued,
            )
