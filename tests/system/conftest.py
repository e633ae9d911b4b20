"""System tests: the real service in separate processes on PostgreSQL, with the fake providers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from booking_adapters.testing.fake_stripe import running
from tests.system.postgres import require_shared_server, seeded_database
from tests.system.service import StripeConfig
from tests.system.stripe_control import ControlledFakeStripe


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh, migrated, seeded database on the shared server; dropped afterwards."""
    with seeded_database(require_shared_server()) as url:
        yield url


@pytest.fixture
def fake_stripe() -> ControlledFakeStripe:
    return ControlledFakeStripe()


@pytest.fixture
def stripe(fake_stripe: ControlledFakeStripe) -> Iterator[StripeConfig]:
    with running(fake_stripe) as url:
        yield StripeConfig(url, fake_stripe.webhook_secret)
