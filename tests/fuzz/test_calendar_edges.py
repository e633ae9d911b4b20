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


EDGE_ZONES = ("UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Europe/Berlin")
FIRST_DAYS = [f"0001-01-{day:02d}" for day in range(1, 10)]
LAST_DAYS = [f"9999-12-{day:02d}" for day in range(20, 32)]


@pytest.mark.parametrize("timezone", EDGE_ZONES)
def test_availability_at_the_edges_of_the_calendar_is_never_a_500(stack: Stack, timezone: str) -> None:
    """`start=9999-12-28` alone was a 500: the default end (six days on) is past the calendar."""
    queries = [{"start": day} for day in FIRST_DAYS + LAST_DAYS]
    queries += [{"end": day} for day in FIRST_DAYS + LAST_DAYS]
    queries += [{"start": day, "end": day} for day in FIRST_DAYS + LAST_DAYS]
    queries += [{"start": "9999-12-25", "end": "9999-12-31"}, {"start": "0001-01-01", "end": "0001-01-07"}]
    for query in queries:
        params = query | {"timezone": timezone}
        response = stack.client.get("/api/practitioners/jane-doe/availability", params=params)
        assert response.status_code in (200, 422), (params, response.text)
        if response.status_code == 422:
            assert set(response.json()["error"]["fields"]) <= set(query), (params, response.text)


def test_a_start_whose_default_week_passes_the_calendar_names_the_start(stack: Stack) -> None:
    response = stack.client.get("/api/practitioners/jane-doe/availability", params={"start": "9999-12-28"})
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"start"}
