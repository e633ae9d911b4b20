"""The caps of live unpaid holds: per client e-mail, phone and address, and per practitioner."""

from datetime import timedelta

import pytest
from attrs import evolve

from booking_core import (
    BookingRequest,
    HoldLimits,
    LocalHours,
    TimeRange,
    TooManyHolds,
    WeeklySchedule,
    client_network,
)

from .fixtures import MONDAY, World, practitioner, request

pytestmark = pytest.mark.anyio
WEEK = TimeRange.of(MONDAY, timedelta(days=7))


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("fe80::1%eth0", "fe80::/64"),
        ("testclient", None),
        ("", None),
        (None, None),
    ],
)
def test_the_address_counted_is_the_ipv4_address_or_the_ipv6_64(
    address: str | None, network: str | None
) -> None:
    assert client_network(address) == network


async def _starts(world: World, pid: str = "jane") -> list[TimeRange]:
    return list((await world.service.list_availability(pid, WEEK)).slots)


async def test_one_client_holds_at_most_two_slots_unpaid_whatever_it_tries() -> None:
    world = World()
    slots = await _starts(world)
    held, refusals = [], []
    for slot in slots[:6]:
        try:
            held.append(await world.service.request_booking(request(slot.start)))
        except TooManyHolds as refused:
            refusals.append(refused)
    assert len(held) == 2
    assert {r.limit for r in refusals} == {"email"}
    assert "finish paying for one of them or cancel it, or wait until its hold lapses" in refusals[0].message
    # paying for one frees a place
    await world.service.apply_payment_event(world.gateway.pay(held[0].booking.checkout_session_id))
    await world.service.request_booking(request(slots[6].start))


async def test_the_email_cap_ignores_case_and_the_phone_cap_its_format() -> None:
    world = World()
    slots = await _starts(world)
    for slot in slots[:2]:
        await world.service.request_booking(request(slot.start))
    with pytest.raises(TooManyHolds) as by_email:
        await world.service.request_booking(
            evolve(request(slots[2].start), email="ANN@Example.COM", phone="+1 212 555 0100")
        )
    assert by_email.value.limit == "email"
    with pytest.raises(TooManyHolds) as by_phone:
        await world.service.request_booking(
            evolve(
                request(slots[2].start),
                email="bob@example.com",
                phone="+49 (30) 123-4567",
            )
        )
    assert by_phone.value.limit == "phone"


async def test_the_address_cap_counts_an_ipv6_64_together() -> None:
    world = World()
    slots = await _starts(world)
    for index, slot in enumerate(slots[:2]):
        await world.service.request_booking(
            evolve(
                request(slot.start),
                email=f"c{index}@example.com",
                phone=f"+4930555000{index}",
                client_address=f"2001:db8:1:2::{index + 1}",
            )
        )
    other = evolve(request(slots[2].start), email="c9@example.com", phone="+49305550009")
    with pytest.raises(TooManyHolds) as refused:
        await world.service.request_booking(evolve(other, client_address="2001:db8:1:2:ffff::9"))
    assert refused.value.limit == "client_address"
    await world.service.request_booking(evolve(other, client_address="2001:db8:1:3::1"))  # another /64


async def test_a_lapsed_hold_no_longer_counts_and_its_address_is_erased() -> None:
    world = World()
    slots = await _starts(world)
    first = await world.service.request_booking(evolve(request(slots[0].start), client_address="203.0.113.7"))
    assert first.booking.client_address == "203.0.113.7"
    await world.service.request_booking(evolve(request(slots[1].start), client_address="203.0.113.7"))
    world.clock.advance(timedelta(minutes=31))
    await world.service.request_booking(evolve(request(slots[2].start), client_address="203.0.113.7"))
    await world.service.reconcile()
    assert (await world.store.get(first.booking.id)).client_address is None  # type: ignore[union-attr]


def _client(number: int, start: TimeRange) -> BookingRequest:
    return BookingRequest(
        "tue", start.start, f"Client {number}", f"c{number}@example.com", f"+4930555{number:04d}"
    )


@pytest.mark.parametrize(("share", "allowed"), [(0.5, 2), (1.0, 5)])
async def test_at_most_a_share_of_a_practitioners_week_is_held_unpaid(share: float, allowed: int) -> None:
    only_tuesday = [[] for _ in range(7)]
    only_tuesday[1] = [LocalHours.parse("09:00-14:00")]  # five 50-minute sessions with 10-minute breaks
    tuesday = evolve(practitioner("tue"), schedule=WeeklySchedule("Europe/Berlin", only_tuesday))
    world = World(practitioners=[tuesday])
    world.service.hold_limits = HoldLimits(practitioner_share=share)
    slots = await _starts(world, "tue")
    assert len(slots) == 5
    outcomes = []
    for number, slot in enumerate(slots):
        try:
            await world.service.request_booking(_client(number, slot))
            outcomes.append("held")
        except TooManyHolds as refused:
            outcomes.append(refused.limit)
    assert outcomes == ["held"] * allowed + ["practitioner"] * (5 - allowed)
