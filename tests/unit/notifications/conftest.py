"""Fixtures for the notification tests: a running SMTP sink, a webhook HTTP client, a world."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from booking_adapters.outgoing_webhooks import webhook_http_client
from tests.unit.notifications.servers import SmtpSink
from tests.unit.notifications.world import World


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A sink that is not started: tests start it (and may start it late)."""
    sink = SmtpSink()
    yield sink
    sink.stop()


@pytest.fixture
async def http(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    async with webhook_http_client() as client:
        yield client
