"""The client's data (issue 17 item 3) through its use cases over the memory fakes: erasure refused
while a session is ahead, its reach (every booking of the address, whatever the case, copies of
e-mails about them), retention by the sessions' end, in bounded rounds, and that an erased client
is e-mailed no more."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from attrs import define, field

from booking_core import (
    ERASED,
    Booking,
    BookingRequest,
    ClientBookingsAhead,
    ClientData,
    SentMailCopy,
)
from booking_core.client_erasure import scrub

from .fixtures import MONDAY, World, request

pytestmark = pytest.mark.anyio
TUESDAY_10 = MONDAY.replace(hour=9) + timedelta(days=1)  # 10:00 Berlin


@define
class KeptMail:
    """Copies of e-mails by what they mention (a stand-in for the mailbox folder)."""

    texts: dict[str, str] = field(factory=dict)

    async def mentioning(self, needles: Sequence[str]) -> Sequence[SentMailCopy]:
        return [SentMailCopy(name, "", "", "", text) for name, text in self._matching(needles)]

    async def erase(self, needles: Sequence[str]) -> int:
        doomed = [name for name, _ in self._matching(needles)]
        for name in doomed:
            del self.texts[name]
        return len(doomed)

    def _matching(self, needles: Sequence[str]) -> list[tuple[str, str]]:
        return [
            (name, text)
            for name, text in sorted(self.texts.items())
            if any(needle.casefold() in text.casefold() for needle in needles if needle)
        ]


def _client_data(world: World, mail: KeptMail) -> ClientData:
    return ClientData.over(world.store, world.store, mail, world.clock)


async def _paid(
    world: World, start: timedelta, email: str = "ann@example.com", name: str = "Ann Example"
) -> Booking:
    asked = request(TUESDAY_10 + start)
    hold = await world.service.request_booking(
        BookingRequest(asked.practitioner_id, asked.start, name, email, asked.phone)
    )
    assert hold.booking.checkout_session_id is not None
    await world.service.apply_payment_event(world.gateway.pay(hold.booking.checkout_session_id))
    return await world.service.booking(hold.booking.id)


async def test_erasure_waits_until_no_session_is_ahead_then_reaches_every_booking() -> None:
    world, mail = World(), KeptMail()
    first = await _paid(world, timedelta())
    second = await _paid(world, timedelta(hours=1), email="ANN@example.com", name="Ann E.")
    other = await _paid(world, timedelta(hours=4), email="bo@example.com", name="Bo")
    mail.texts |= {"1.eml": f"To: ann@example.com {first.id}", "2.eml": f"Ann E. {second.id}", "3.eml": "Bo"}
    data = _client_data(world, mail)
    with pytest.raises(ClientBookingsAhead) as refused:
        await data.erasure.erase("Ann@Example.com")
    assert refused.value.booking_ids == (first.id, second.id)
    assert (await world.service.booking(first.id)).client.name == "Ann Example"  # nothing changed
    world.clock.set(second.slot.end)
    erased = await data.erasure.erase(" Ann@Example.com ")
    assert (erased.bookings, erased.mail_copies) == (2, 2)
    for booking in (first, second):
        after = await world.service.booking(booking.id)
        assert (
            after.client == ERASED and after.amount_paid == booking.amount_paid and after.slot == booking.slot
        )
    assert (await world.service.booking(other.id)).client.name == "Bo"
    assert list(mail.texts) == ["3.eml"]
    export = await data.export.export("ann@example.com")
    assert export.bookings == [] and export.mail_copies == []


async def test_retention_anonymises_sessions_that_ended_long_enough_ago_in_bounded_rounds() -> None:
    world, mail = World(), KeptMail()
    sessions = [
        await _paid(world, timedelta(hours=hours), email=f"c{hours}@example.com") for hours in (0, 1, 4)
    ]
    data = _client_data(world, mail)
    keep = timedelta(days=30)
    world.clock.set(sessions[1].slot.end + keep - timedelta(seconds=1))
    assert await data.retention.anonymise_expired(keep) == 1  # the first only: the second is a second short
    world.clock.set(sessions[2].slot.end + keep)
    assert await data.retention.anonymise_expired(keep, batch=1, max_batches=1) == 1  # a round's bound
    assert await data.retention.anonymise_expired(keep) == 1
    assert await data.retention.anonymise_expired(keep) == 0
    assert [(await world.service.booking(b.id)).client for b in sessions] == [ERASED] * 3


def test_scrubbing_replaces_each_detail_ignoring_case_longest_first() -> None:
    details = ["Ann", "Ann Example", "+4930123"]
    assert (
        scrub("ANN EXAMPLE called from +4930123; ann again", details)
        == "[erased] called from [erased]; [erased] again"
    )
    assert scrub("nothing here", details) == "nothing here" and scrub("Ann", []) == "Ann"
