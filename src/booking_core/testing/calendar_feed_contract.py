"""The CalendarFeedKeys contract: subclass it with a `feed_keys` fixture (tests/contract runs it over
memory, SQLite and PostgreSQL). Besides the examples, a property: after any generated run of keys
put (rotations of a few practitioners), each practitioner's last key is found, by practitioner and
by its hash, and no earlier one opens anything."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core.booking import hash_token
from booking_core.feed_keys import FeedKey
from booking_core.ports import CalendarFeedKeys

AT = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)
_examples = itertools.count()  # each example's practitioners are its own


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

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(rotations=st.lists(st.integers(0, 2), max_size=12))
    async def test_only_each_practitioners_last_key_opens(
        self, feed_keys: CalendarFeedKeys, rotations: list[int]
    ) -> None:
        """Each number in `rotations` puts the next key of that practitioner."""
        example = next(_examples)
        last: dict[str, FeedKey] = {}
        earlier: list[FeedKey] = []
        for number in rotations:
            practitioner_id = f"feed-{example}-{number}"
            previous = last.get(practitioner_id)
            generation = 1 if previous is None else previous.generation + 1
            rotated = FeedKey(practitioner_id, generation, hash_token(f"{practitioner_id}/{generation}"), AT)
            await feed_keys.put(rotated)
            earlier += [previous] if previous else []
            last[practitioner_id] = rotated
        for practitioner_id, current in last.items():
            assert await feed_keys.key_of(practitioner_id) == current
            assert await feed_keys.key_by_hash(current.token_hash) == current
        for old in earlier:
            assert await feed_keys.key_by_hash(old.token_hash) is None
