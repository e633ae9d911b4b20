"""Several services per practitioner (issue 14): each with its own length, price and overrides of
the practitioner's offer, one conflict rule over all of them; a practitioner who lists none offers
the one service `session` of their offer, as before services existed."""

from datetime import timedelta

import pytest
from attrs import evolve

from booking_core import (
    InvalidInput,
    Money,
    Practitioner,
    Service,
    ServiceChoiceError,
    SlotUnavailable,
    TimeRange,
)

from .fixtures import MONDAY, World, practitioner, request

pytestmark = pytest.mark.anyio
WEEK = TimeRange.of(MONDAY, timedelta(days=7))
MIN = timedelta(minutes=1)
INTRO = Service("intro", "Free intro call", 15 * MIN, Money(0, "EUR"))
DOUBLE = Service(
    "double",
    "Double session",
    100 * MIN,
    Money(17000, "EUR"),
    buffer_before=10 * MIN,
    buffer_after=20 * MIN,
    min_notice=timedelta(days=2),
    slot_step=60 * MIN,
    hold_duration=timedelta(hours=2),
)
SESSION = Service("session", "Session", 50 * MIN, Money(9000, "EUR"))


def _mia() -> Practitioner:
    """The fixtures' offer (10 minutes after each session, no slot step), three services."""
    return evolve(practitioner("mia"), services=(INTRO, SESSION, DOUBLE))


def test_without_services_the_offer_is_the_one_service_session() -> None:
    jane = practitioner("jane")
    assert jane.services == ()
    assert jane.offered_services == (Service("session", "Session", 50 * MIN, Money(9000, "EUR")),)
    assert jane.service(None) == jane.service("session") == jane.offered_services[0]
    assert jane.offer_for(jane.service(None)) == jane.offer


def test_a_service_overrides_what_it_sets_and_keeps_the_rest() -> None:
    mia = _mia()
    intro = mia.offer_for(INTRO)
    assert (intro.session_length, intro.price) == (15 * MIN, Money(0, "EUR"))
    assert intro == evolve(mia.offer, session_length=15 * MIN, price=Money(0, "EUR"))
    double = mia.offer_for(DOUBLE)
    assert (double.buffer_before, double.buffer_after, double.min_notice) == (
        10 * MIN,
        20 * MIN,
        timedelta(days=2),
    )
    assert (double.step, double.hold_duration) == (60 * MIN, timedelta(hours=2))
    assert (double.horizon, double.cancellation) == (mia.offer.horizon, mia.offer.cancellation)


def test_choosing_a_service() -> None:
    mia = _mia()
    assert mia.service("double") is DOUBLE
    with pytest.raises(ServiceChoiceError, match="Choose a service: one of intro, session, double"):
        mia.service(None)
    with pytest.raises(ServiceChoiceError, match="no service 'massage'"):
        mia.service("massage")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "Intro Call"}, "URL-safe"),
        ({"name": " "}, "name"),
        ({"length": timedelta(0)}, "length must be positive"),
        ({"buffer_after": -MIN}, "buffer_after must not be negative"),
        ({"slot_step": timedelta(seconds=30)}, "slot_step"),
        ({"hold_duration": 10 * MIN}, "hold_duration"),
    ],
)
def test_an_invalid_service_cannot_exist(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evolve(INTRO, **changes)  # type: ignore[arg-type]


def test_service_ids_are_unique_per_practitioner() -> None:
    with pytest.raises(ValueError, match="repeated: intro"):
        evolve(_mia(), services=(INTRO, SESSION, evolve(INTRO, name="Another intro")))


async def test_availability_is_per_service_and_names_the_parameter_when_unclear() -> None:
    world = World(practitioners=[_mia()])
    intro = await world.service.list_availability("mia", WEEK, "intro")
    assert intro.service_id == "intro"
    assert {slot.duration for slot in intro.slots} == {15 * MIN}
    # no slot step set anywhere: the intro's own length plus the buffer after, from 09:00 Berlin
    assert [slot.start.strftime("%H:%M") for slot in intro.slots[:3]] == ["08:00", "08:25", "08:50"]
    double = await world.service.list_availability("mia", WEEK, "double")
    assert double.slots[0].start >= world.clock.now() + timedelta(days=2)  # its own notice
    for unclear, says in ((None, "Choose a service"), ("massage", "no service 'massage'")):
        with pytest.raises(InvalidInput) as caught:
            await world.service.list_availability("mia", WEEK, unclear)
        assert list(caught.value.fields) == ["service"]
        assert says in caught.value.fields["service"]


async def test_a_booking_keeps_the_service_it_was_made_for() -> None:
    world = World(practitioners=[_mia()])
    slot = (await world.service.list_availability("mia", WEEK, "double")).slots[0]
    hold = await world.service.request_booking(request(slot.start, "mia", service="double"))
    booking = hold.booking
    assert (booking.service_id, booking.service_name) == ("double", "Double session")
    assert (booking.slot.duration, booking.price) == (100 * MIN, Money(17000, "EUR"))
    assert booking.occupied == slot.widen(10 * MIN, 20 * MIN)  # the service's buffers
    assert booking.hold_expires_at == world.clock.now() + timedelta(hours=2)  # the service's hold
    (checkout,) = world.gateway.sessions.values()
    assert checkout.amount == Money(17000, "EUR")


async def test_a_booking_request_names_its_service_when_there_are_several() -> None:
    world = World(practitioners=[_mia()])
    slot = (await world.service.list_availability("mia", WEEK, "session")).slots[0]
    for unclear in (None, "massage"):
        with pytest.raises(InvalidInput) as caught:
            await world.service.request_booking(
                evolve(request(slot.start, "mia", service=unclear), email="nope")
            )
        assert set(caught.value.fields) == {"service_id", "email"}  # every problem at once
    assert world.store.all_bookings() == []


async def test_a_slot_of_one_service_is_not_offered_for_another() -> None:
    world = World(practitioners=[_mia()])
    session = (await world.service.list_availability("mia", WEEK, "session")).slots[0]
    await world.service.request_booking(request(session.start, "mia", service="session"))
    occupied = session.widen(timedelta(0), 10 * MIN)  # the practitioner's buffer after
    intro = (await world.service.list_availability("mia", WEEK, "intro")).slots
    assert not any(slot.overlaps(occupied) for slot in intro)
    with pytest.raises(SlotUnavailable):  # an intro call offered at that start before
        await world.service.request_booking(request(session.start, "mia", service="intro"))


async def test_a_request_without_a_service_hashes_as_before_services() -> None:
    """An Idempotency-Key stored before services replays the same request unchanged; naming the
    service makes another request."""
    plain = request(MONDAY, key="k1")
    assert plain.fingerprint() != evolve(plain, service_id="session").fingerprint()
    world = World()
    slot = (await world.service.list_availability("jane", WEEK)).slots[0]
    first = await world.service.request_booking(request(slot.start, key="k1"))
    again = await world.service.request_booking(request(slot.start, key="k1"))
    assert again.booking.id == first.booking.id
    assert first.booking.service_id == "session"
