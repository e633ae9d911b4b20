"""The periodic work every process does while it serves: settle lapsed holds and owed refunds,
record the sessions that ended as completed, and anonymise clients' details past their retention."""

from __future__ import annotations

import logging
from datetime import timedelta

import anyio

from booking_core import BookingService, ClientData

log = logging.getLogger(__name__)


async def keep_house(
    service: BookingService, client_data: ClientData, interval_seconds: float, retention: timedelta | None
) -> None:
    """A round every `interval_seconds` until cancelled. Safe in several workers at once: the store
    serialises each change, and a repeated round finds nothing left to do."""
    while True:
        await anyio.sleep(interval_seconds)
        await house_round(service, client_data, retention)


async def house_round(service: BookingService, client_data: ClientData, retention: timedelta | None) -> None:
    """One round; each part on its own, so that one that fails does not hold up the others (the next
    round retries it)."""
    try:
        report = await service.reconcile()
    except Exception:
        log.exception("housekeeping: reconciling failed")
    else:
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
    try:
        completed = await service.complete_ended_sessions()
    except Exception:
        log.exception("housekeeping: recording ended sessions failed")
    else:
        if completed:
            log.info("housekeeping: %d sessions completed", completed)
    if retention is None:
        return
    try:
        anonymised = await client_data.retention.anonymise_expired(retention)
    except Exception:
        log.exception("housekeeping: anonymising clients' details past their retention failed")
    else:
        if anonymised:
            log.info("housekeeping: %d bookings' client details anonymised (retention)", anonymised)
