"""The CalendarFeedKeys contract: subclass it with a `feed_keys` fixture (tests/contract runs it over
memory, SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking_core.feed_keys import FeedKey
from booking_core.ports import CalendarFeedKeys

AT = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)


def key(practitioner_id: str, generation: int = 1) -> FeedKey:
    return FeedKey(practitioner_id, generation, f"{practitioner_id}-{generation}".ljust(64, "0"), AT)


class CalendarFeedKeysContract:
    pytestmark = pytest.mark.anyio

    async def test_a_stored_key_reads_back_by_practitioner_and_by_hash(
        self, feed_keys: CalendarFeedKeys
    ) -> None:
        stored = key("jane-doe")
        await feed_keys.put(stored)
        await feed_keys.put(key("sam-lee"))
        assert await feed_keys.key_of("jane-doe") == stored
        assert await feed_keys.key_by_hash(stored.token_hash) == stored
        assert await feed_keys.key_of("nobody") is None
        assert await feed_keys.key_by_hash("f" * 64) is None

    async def test_put_replaces_the_practitioners_key(self, feed_keys: CalendarFeedKeys) -> None:
        first = key("jane-doe")
        await feed_keys.put(first)
        rotated = FeedKey("jane-doe", 2, key("jane-doe", 2).token_hash, AT + timedelta(days=1))
        await feed_keys.put(rotated)
        assert await feed_keys.key_of("jane-doe") == rotated
        assert await feed_keys.key_by_hash(rotated.token_hash) == rotated
        assert await feed_keys.key_by_hash(first.token_hash) is None  # the old address opens nothing
