"""The AvailabilitySource contract (booking_core.testing.availability_contract) over the schedule,
Cal.com-on-the-fake and the memory fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from booking_core.testing.availability_contract import AvailabilityCase, AvailabilitySourceContract
from tests.contract.availability_fixtures import availability_case


class TestAvailabilitySources(AvailabilitySourceContract):
    @pytest.fixture(params=["schedule", "calcom-on-fake", "static"])
    async def availability(self, request: pytest.FixtureRequest) -> AsyncIterator[AvailabilityCase]:
        async with availability_case(request.param) as case:
            yield case
