"""CalendarFeeds over the memory fakes: the address's token (stable, rotated, renewed when the server's
secret changed), whose feed a token opens, and what a feed lists."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking_adapters.memory import MemoryCalendarFeedKeys, MemoryDirectory
from booking_adapters.system import SecureIds
from booking_core import (
    CalendarFeeds,
    NotFound,
    TimeOff,
    TimeRange,
    UnknownPractitioner,
    hash_token,
)

from .fixtures import MONDAY, World, practitioner, request

pytestmark = pytest.mark.anyio
WEEK = TimeRange.of(MONDAY, timedelta(days=7))


def feeds(world: World, keys: MemoryCalendarFeedKeys, secret: bytes = b"server secret") -> CalendarFeeds:
    return CalendarFeeds(world.service.directory, world.store, keys, world.clock, SecureIds(secret))


async def test_the_token_is_the_same_on_every_ask_and_only_its_hash_is_kept() -> None:
    world = World(practitioners=[practitioner("jane"), practitioner("sam")])
    keys = MemoryCalendarFeedKeys()
    token = await feeds(world, keys).token("jane")
    assert await feeds(world, keys).token("jane") == token
    assert await feeds(world, keys).token("sam") != token
    stored = await keys.key_of("jane")
    assert stored is not None and stored.token_hash == hash_token(token) and token not in repr(stored)
    assert (await feeds(world, keys).practitioner_of(token)).id == "jane"
    with pytest.raises(UnknownPractitioner):
        await feeds(world, keys).token("nobody")


async def test_a_rotated_token_replaces_the_old_one() -> None:
    world = World()
    keys = MemoryCalendarFeedKeys()
    old = await feeds(world, keys).token("jane")
    new = await feeds(world, keys).rotate("jane")
    assert new != old
    assert await feeds(world, keys).token("jane") == new
    with pytest.raises(NotFound, match="no calendar at this address"):
        await feeds(world, keys).practitioner_of(old)
    assert (await feeds(world, keys).practitioner_of(new)).id == "jane"


async def test_a_new_server_secret_gives_a_new_address_on_the_next_ask() -> None:
    world = World()
    keys = MemoryCalendarFeedKeys()
    before = await feeds(world, keys, b"old secret").token("jane")
    assert (await feeds(world, keys, b"new secret").practitioner_of(before)).id == "jane"  # still opens
    after = await feeds(world, keys, b"new secret").token("jane")  # cannot be derived again
    assert after != before
    assert await feeds(world, keys, b"new secret").token("jane") == after
    with pytest.raises(NotFound):
        await feeds(world, keys, b"new secret").practitioner_of(before)


async def test_wrong_tokens_and_removed_practitioners_open_nothing() -> None:
    world = World()
    keys = MemoryCalendarFeedKeys()
    token = await feeds(world, keys).token("jane")
    for wrong in ("", "jane", token[:-1], token.upper()):
        with pytest.raises(NotFound, match="no calendar at this address"):
            await feeds(world, keys).practitioner_of(wrong)
    directory = world.service.directory
    assert isinstance(directory, MemoryDirectory)
    await directory.remove("jane", world.clock.now())
    with pytest.raises(NotFound, match="no calendar at this address"):
        await feeds(world, keys).practitioner_of(token)


async def test_a_feed_lists_confirmed_sessions_live_holds_and_time_off() -> None:
    world = World()
    slots = (await world.service.list_availability("jane", WEEK)).slots
    paid = await world.service.request_booking(request(slots[0].start))
    await world.service.apply_payment_event(world.gateway.pay(paid.booking.checkout_session_id))
    held = await world.service.request_booking(request(slots[2].start, key="held"))
    cancelled = await world.service.request_booking(request(slots[4].start, key="cancelled"))
    await world.service.cancel_booking(cancelled.booking.id, cancelled.cancel_token)
    away = TimeOff("off-1", "jane", TimeRange.of(MONDAY + timedelta(days=3), timedelta(hours=4)), MONDAY)
    await world.store.add_time_off(away, world.clock.now())

    content = await feeds(world, MemoryCalendarFeedKeys()).content(await world.service.practitioner("jane"))

    assert [b.id for b in content.sessions] == [paid.booking.id, held.booking.id]
    assert content.time_off == [away]
    latest = await world.service.booking(cancelled.booking.id)
    assert content.changed_at == latest.updated_at  # the cancellation counts as a change
    world.clock.advance(timedelta(minutes=31))  # the hold lapses unpaid
    later = await feeds(world, MemoryCalendarFeedKeys()).content(await world.service.practitioner("jane"))
    assert [b.id for b in later.sessions] == [paid.booking.id]
