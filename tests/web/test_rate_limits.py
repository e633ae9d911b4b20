"""Rate limits count per limit and key; with Redis every process counts in the same keys (workers
and hosts share the limit); an unreachable Redis falls back to this process's counts, warned once."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from booking_web.rate_limits import RETRY_REDIS_SECONDS, Limit, RateLimits, retry_after
from tests.redis_server import REDIS_URL, scratch_prefix
from tests.serving import free_port

pytestmark = pytest.mark.anyio

TWO_A_MINUTE = Limit("booking", 2, 60)


@pytest.fixture
def prefix() -> Iterator[str]:
    with scratch_prefix() as fresh:
        yield fresh


async def _answers(limits: RateLimits, limit: Limit, keys: list[str]) -> list[float]:
    return [await limits.seconds_until_allowed(limit, key) for key in keys]


async def test_a_limit_counts_per_key_and_limit_in_memory() -> None:
    limits = RateLimits()
    assert not limits.shared
    first, second, third = await _answers(limits, TWO_A_MINUTE, ["a", "a", "a"])
    assert first == second == 0
    assert 0 < third <= 60
    assert await _answers(limits, TWO_A_MINUTE, ["b"]) == [0]  # per key
    assert await _answers(limits, Limit("calendar", 2, 60), ["a"]) == [0]  # per limit


async def test_processes_on_one_redis_share_the_limit(prefix: str) -> None:
    """Two RateLimits stand for two workers (or hosts): N requests across both, the N+1th on either
    is refused."""
    one, other = RateLimits(REDIS_URL, prefix), RateLimits(REDIS_URL, prefix)
    try:
        assert one.shared and other.shared
        limit = Limit("booking", 3, 60)
        assert await _answers(one, limit, ["a", "a"]) + await _answers(other, limit, ["a"]) == [0, 0, 0]
        [refused] = await _answers(other, limit, ["a"])
        assert 0 < refused <= 60
        [refused_too] = await _answers(one, limit, ["a"])
        assert refused_too > 0
        assert await _answers(one, limit, ["b"]) == [0]
    finally:
        await one.close()
        await other.close()


async def test_another_prefix_counts_apart(prefix: str) -> None:
    one, other = RateLimits(REDIS_URL, prefix), RateLimits(REDIS_URL, prefix + "-other")
    try:
        await _answers(one, TWO_A_MINUTE, ["a", "a"])
        assert await _answers(other, TWO_A_MINUTE, ["a", "a"]) == [0, 0]
    finally:
        await one.close()
        await other.close()


async def test_an_unreachable_redis_falls_back_to_this_processs_counts_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    nobody = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    limits = RateLimits(nobody, "unused", clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="booking_web.rate_limits")
    try:
        first, second, third = await _answers(limits, TWO_A_MINUTE, ["a", "a", "a"])
        assert first == second == 0
        assert third > 0  # still limited, by this process alone
        now[0] += RETRY_REDIS_SECONDS + 1  # Redis is tried again, and is still down
        [fourth] = await _answers(limits, TWO_A_MINUTE, ["a"])
        assert fourth > 0
    finally:
        await limits.close()
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1, [record.getMessage() for record in caplog.records]
    assert "Redis unreachable" in warnings[0].getMessage()


def test_retry_after_is_whole_seconds_never_zero() -> None:
    assert [retry_after(0.2), retry_after(1.0), retry_after(29.1)] == [1, 1, 30]
