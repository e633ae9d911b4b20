"""Fixtures: a fake Stripe server per test (served for the real SDK) and worlds over each gateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from booking_adapters.stripe import LocalTestGateway, StripeGateway
from booking_adapters.testing import FakeStripe, running
from tests.unit.payments.world import PUBLIC_BASE_URL, SECRET_KEY, WEBHOOK_SECRET, PaymentWorld


@pytest.fixture
def fake_stripe() -> FakeStripe:
    return FakeStripe(webhook_secret=WEBHOOK_SECRET)


@pytest.fixture
def stripe_url(fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with running(fake_stripe) as url:
        yield url


@pytest.fixture
def stripe_world(stripe_url: str) -> PaymentWorld:
    return PaymentWorld(StripeGateway(SECRET_KEY, WEBHOOK_SECRET, PUBLIC_BASE_URL, api_base=stripe_url))


@pytest.fixture
def local_world() -> PaymentWorld:
    return PaymentWorld(LocalTestGateway(WEBHOOK_SECRET, PUBLIC_BASE_URL))
