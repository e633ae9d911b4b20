"""Inputs at the edges of what the core can represent answer 422 naming the field (they once were 500s)."""

from __future__ import annotations

import pytest

from tests.fuzz.hostile import EDGE_OF_CALENDAR_STARTS, ZONE_LOOKUP_CRASHES
from tests.fuzz.stacks import CLIENT, Stack


@pytest.mark.parametrize("timezone", ZONE_LOOKUP_CRASHES)
def test_a_zone_name_that_is_a_folder_or_too_long_is_422(stack: Stack, timezone: str) -> None:
    response = stack.client.get("/api/practitioners/jane-doe/availability", params={"timezone": timezone})
    assert response.status_code == 422
    assert "timezone" in response.json()["error"]["fields"]


@pytest.mark.parametrize("start", EDGE_OF_CALENDAR_STARTS)
def test_a_start_at_the_edge_of_the_calendar_is_422(stack: Stack, start: str) -> None:
    body = {"practitioner_id": "jane-doe", "start": start} | CLIENT
    response = stack.client.post("/api/bookings", json=body)
    assert response.status_code == 422
    assert "start" in response.json()["error"]["fields"]
