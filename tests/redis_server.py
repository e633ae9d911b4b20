"""Redis for tests: the shared server (BOOKING_TEST_REDIS_URL, else 127.0.0.1:6379), each test in
keys of its own (a fresh prefix, deleted afterwards) so that parallel runs never count together."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

REDIS_URL = os.environ.get("BOOKING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@contextmanager
def scratch_prefix() -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted on leaving. Unreachable: skipped
    locally with the reason, a failure under CI=true."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        reason = f"Redis not reachable at {REDIS_URL} (BOOKING_TEST_REDIS_URL): {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    prefix = f"booking-test-{uuid.uuid4().hex}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
