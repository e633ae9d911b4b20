"""Inputs that still answer 500 because of the core (src/booking_core, owned by the lead), kept as
strict expected failures: each turns into a failure to remove once the core is fixed.

- `booking_core.schedule.zone` lets OSError through (a zone name that is a tzdata directory, or
  too long for a file name); it should raise its ValueError, as for any other unknown zone.
- `BookingService.request_booking` builds `TimeRange.of(start, length)` for starts at the calendar's
  edges, where the UTC conversion or the end overflows; it should raise InvalidInput({"start": ...}).
"""

from __future__ import annotations

import pytest

from tests.fuzz.hostile import EDGE_OF_CALENDAR_STARTS, ZONE_LOOKUP_CRASHES
from tests.fuzz.stacks import CLIENT, Stack


@pytest.mark.xfail(strict=True, reason="core: zone() lets OSError through (answers 500)")
@pytest.mark.parametrize("timezone", ZONE_LOOKUP_CRASHES)
def test_a_zone_name_that_is_a_folder_or_too_long_is_422(stack: Stack, timezone: str) -> None:
    response = stack.client.get("/api/practitioners/jane-doe/availability", params={"timezone": timezone})
    assert response.status_code == 422


@pytest.mark.xfail(strict=True, reason="core: TimeRange.of overflows at the calendar's edges (answers 500)")
@pytest.mark.parametrize("start", EDGE_OF_CALENDAR_STARTS)
def test_a_start_at_the_edge_of_the_calendar_is_422(stack: Stack, start: str) -> None:
    body = {"practitioner_id": "jane-doe", "start": start} | CLIENT
    response = stack.client.post("/api/bookings", json=body)
    assert response.status_code == 422
