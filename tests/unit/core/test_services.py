from datetime import timedelta

import pytest
from attrs import evolve

from booking_core import (
    PRACTITIONER_CANCELLED,
    BookingStatus,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidCancelToken,
    InvalidInput,
    Money,
    NotFound,
    PaymentOutcome,
    PaymentProviderError,
    SlotUnavailable,
    TimeRange,
    Trigger,
)

from .fixtures import MONDAY, World, request

pytestmark = pytest.mark.anyio
WEEK = TimeRange.of(MONDAY, timedelta(days=7))


async def _first_slot(world: World) -> TimeRange:
    return (await world.service.list_availability("jane", WEEK)).slots[0]


async def test_a_held_slot_is_not_offered_and_cannot_be_taken_twice() -> None:
    world = World()
    slot = await _first_slot(world)
    await world.service.request_booking(request(slot.start))
    assert slot not in (await world.service.list_availability("jane", WEEK)).slots
    with pytest.raises(SlotUnavailable):
        await world.service.request_booking(request(slot.start))


async def test_slot_off_the_grid_is_refused() -> None:
    world = World()
    slot = await _first_slot(world)
    with pytest.raises(SlotUnavailable):
        await world.service.request_booking(request(slot.start + timedelta(minutes=7)))


async def test_bad_input_names_every_field_and_holds_nothing() -> None:
    world = World()
    slot = await _first_slot(world)
    bad = request(slot.start)
    from attrs import evolve

    with pytest.raises(InvalidInput) as caught:
        await world.service.request_booking(evolve(bad, email="nope", phone="1", timezone="Nowhere/City"))
    assert set(caught.value.fields) == {"email", "phone", "timezone"}
    assert world.store.all_bookings() == []


async def test_unknown_practitioner_is_not_found() -> None:
    world = World()
    with pytest.raises(NotFound):
        await world.service.list_availability("nobody", WEEK)


async def test_window_longer_than_62_days_is_refused() -> None:
    world = World()
    with pytest.raises(InvalidInput) as caught:
        await world.service.list_availability("jane", TimeRange.of(MONDAY, timedelta(days=63)))
    assert "end" in caught.value.fields


async def test_checkout_failure_releases_the_hold() -> None:
    world = World()
    slot = await _first_slot(world)
    world.gateway.failing = True
    with pytest.raises(PaymentProviderError):
        await world.service.request_booking(request(slot.start))
    (booking,) = world.store.all_bookings()
    assert booking.status is BookingStatus.EXPIRED
    assert slot in (await world.service.list_availability("jane", WEEK)).slots


async def test_idempotency_key_returns_the_same_booking_and_token() -> None:
    world = World()
    slot = await _first_slot(world)
    first = await world.service.request_booking(request(slot.start, key="k1"))
    again = await world.service.request_booking(request(slot.start, key="k1"))
    assert again.booking.id == first.booking.id
    assert again.cancel_token == first.cancel_token
    assert len(world.gateway.sessions) == 1
    with pytest.raises(IdempotencyKeyReused):
        await world.service.request_booking(request(slot.start + timedelta(hours=1), key="k1"))


async def test_an_idempotency_key_replays_only_the_request_that_made_it() -> None:
    world = World()
    slot = await _first_slot(world)
    first = await world.service.request_booking(request(slot.start, key="k1"))
    assert first.booking.request_hash == request(slot.start, key="k1").fingerprint()
    for change in (
        {"name": "Eve"},
        {"email": "eve@example.com"},
        {"phone": "+1 212 555 0100"},
        {"timezone": "UTC"},
    ):
        with pytest.raises(IdempotencyKeyReused) as refused:
            await world.service.request_booking(evolve(request(slot.start, key="k1"), **change))
        assert refused.value.fields == {"Idempotency-Key": refused.value.message}
    # the client's address is not part of the request: a retry from another network replays
    moved = await world.service.request_booking(
        evolve(request(slot.start, key="k1"), client_address="192.0.2.8")
    )
    assert moved.booking.id == first.booking.id


async def test_a_booking_stored_without_a_request_hash_replays_by_its_slot() -> None:
    world = World()
    slot = await _first_slot(world)
    first = await world.service.request_booking(request(slot.start, key="k1"))
    legacy = evolve(first.booking, request_hash=None)
    world.store._bookings[legacy.id] = legacy  # as a row written before migration 0005
    assert (
        await world.service.request_booking(evolve(request(slot.start, key="k1"), name="Ann E."))
    ).booking.id == legacy.id


async def _paid_booking(world: World):  # type: ignore[no-untyped-def]
    slot = await _first_slot(world)
    hold = await world.service.request_booking(request(slot.start))
    event = world.gateway.pay(hold.booking.checkout_session_id)
    assert await world.service.apply_payment_event(event) is PaymentOutcome.CONFIRMED
    return hold, event


async def test_payment_confirms_once_and_duplicates_do_nothing() -> None:
    world = World()
    hold, event = await _paid_booking(world)
    assert await world.service.apply_payment_event(event) is PaymentOutcome.DUPLICATE
    booking = await world.service.booking(hold.booking.id)
    assert booking.status is BookingStatus.CONFIRMED
    assert booking.amount_paid == Money(9000, "EUR")
    triggers = [e.trigger for e in await world.store.history(booking.id)]
    assert triggers == [Trigger.HOLD_PLACED, Trigger.PAYMENT_CONFIRMED]
    assert [e.trigger for _, e in world.notifier.changes] == [Trigger.HOLD_PLACED, Trigger.PAYMENT_CONFIRMED]


async def test_expiry_delivered_after_payment_is_ignored() -> None:
    world = World()
    hold, _ = await _paid_booking(world)
    expired = world.gateway.expire(hold.booking.checkout_session_id)
    assert await world.service.apply_payment_event(expired) is PaymentOutcome.IGNORED
    assert (await world.service.booking(hold.booking.id)).status is BookingStatus.CONFIRMED


async def test_late_payment_reconfirms_when_the_slot_is_still_free() -> None:
    world = World()
    slot = await _first_slot(world)
    hold = await world.service.request_booking(request(slot.start))
    world.clock.advance(timedelta(minutes=31))
    await world.service.release_lapsed_holds()
    assert (await world.service.booking(hold.booking.id)).status is BookingStatus.EXPIRED
    outcome = await world.service.apply_payment_event(world.gateway.pay(hold.booking.checkout_session_id))
    assert outcome is PaymentOutcome.CONFIRMED


async def test_late_payment_on_a_taken_slot_is_refunded() -> None:
    world = World()
    slot = await _first_slot(world)
    hold = await world.service.request_booking(request(slot.start))
    world.clock.advance(timedelta(minutes=31))
    other = await world.service.request_booking(request(slot.start))  # the lapsed hold is released
    assert other.booking.id != hold.booking.id
    outcome = await world.service.apply_payment_event(world.gateway.pay(hold.booking.checkout_session_id))
    assert outcome is PaymentOutcome.REFUND_REQUESTED
    late = await world.service.booking(hold.booking.id)
    assert late.status is BookingStatus.REFUNDED
    assert late.amount_refunded == Money(9000, "EUR")
    assert list(world.gateway.refunds) == [f"refund-{late.id}"]


async def test_wrong_amount_is_refunded_not_confirmed() -> None:
    world = World()
    slot = await _first_slot(world)
    hold = await world.service.request_booking(request(slot.start))
    event = world.gateway.pay(hold.booking.checkout_session_id, amount=Money(100, "EUR"))
    assert await world.service.apply_payment_event(event) is PaymentOutcome.REFUND_REQUESTED
    booking = await world.service.booking(hold.booking.id)
    assert booking.status is BookingStatus.REFUNDED
    assert booking.amount_refunded == Money(100, "EUR")


async def test_async_failure_and_expiry_release_the_hold() -> None:
    world = World()
    slot = await _first_slot(world)
    hold = await world.service.request_booking(request(slot.start))
    outcome = await world.service.apply_payment_event(world.gateway.expire(hold.booking.checkout_session_id))
    assert outcome is PaymentOutcome.RELEASED
    assert slot in (await world.service.list_availability("jane", WEEK)).slots


async def test_cancel_needs_the_token_and_changes_nothing_without_it() -> None:
    world = World()
    hold, _ = await _paid_booking(world)
    with pytest.raises(InvalidCancelToken):
        await world.service.cancel_booking(hold.booking.id, "wrong")
    assert (await world.service.booking(hold.booking.id)).status is BookingStatus.CONFIRMED


async def test_cancel_early_refunds_in_full() -> None:
    world = World()
    slots = (await world.service.list_availability("jane", WEEK)).slots
    far = next(s for s in slots if s.start - world.clock.now() > timedelta(days=2))
    hold = await world.service.request_booking(request(far.start))
    await world.service.apply_payment_event(world.gateway.pay(hold.booking.checkout_session_id))
    cancelled = await world.service.cancel_booking(hold.booking.id, hold.cancel_token)
    assert cancelled.amount_refunded == Money(9000, "EUR")
    assert cancelled.refund_id is not None


async def test_late_cancellation_refunds_the_policy_share() -> None:
    world = World()
    hold, _ = await _paid_booking(world)
    cancelled = await world.service.cancel_booking(hold.booking.id, hold.cancel_token)
    assert cancelled.refund_owed == Money(4500, "EUR")
    assert (await world.service.booking(hold.booking.id)).amount_refunded == Money(4500, "EUR")


async def test_started_sessions_cannot_be_cancelled() -> None:
    world = World()
    hold, _ = await _paid_booking(world)
    world.clock.set(hold.booking.slot.start)
    with pytest.raises(IllegalTransition):
        await world.service.cancel_booking(hold.booking.id, hold.cancel_token)


async def test_cancelling_an_unpaid_hold_expires_its_checkout() -> None:
    world = World()
    slot = await _first_slot(world)
    hold = await world.service.request_booking(request(slot.start))
    await world.service.cancel_booking(hold.booking.id, hold.cancel_token)
    assert world.gateway.sessions[hold.booking.checkout_session_id].status == "expired"
    # a payment that still gets through is refunded
    outcome = await world.service.apply_payment_event(world.gateway.pay(hold.booking.checkout_session_id))
    assert outcome is PaymentOutcome.REFUND_REQUESTED


async def test_reconcile_confirms_a_paid_hold_whose_webhook_was_lost() -> None:
    world = World()
    slot = await _first_slot(world)
    hold = await world.service.request_booking(request(slot.start))
    world.gateway.pay(hold.booking.checkout_session_id)  # the webhook never arrives
    world.clock.advance(timedelta(minutes=31))
    report = await world.service.reconcile()
    assert (report.holds_checked, report.confirmed) == (1, 1)
    assert (await world.service.booking(hold.booking.id)).status is BookingStatus.CONFIRMED


async def test_refunds_that_failed_are_retried_by_settle_refunds() -> None:
    world = World()
    hold, _ = await _paid_booking(world)
    world.clock.set(hold.booking.slot.start - timedelta(days=3))  # early enough for a full refund
    world.gateway.failing = True
    cancelled = await world.service.cancel_booking(hold.booking.id, hold.cancel_token)
    assert cancelled.refund_id is None
    world.gateway.failing = False
    assert await world.service.settle_refunds() == 1
    assert (await world.service.booking(hold.booking.id)).refund_id is not None


async def test_practitioner_side_cancellation_refunds_in_full() -> None:
    world = World()
    hold, _ = await _paid_booking(world)
    cancelled = await world.service.cancel_for_practitioner(hold.booking.id, "calendar conflict")
    assert cancelled.status is BookingStatus.CANCELLED
    assert cancelled.amount_refunded == Money(9000, "EUR")


async def test_a_cancellation_the_practitioner_asks_for_refuses_a_started_session() -> None:
    world = World()
    hold, _ = await _paid_booking(world)
    world.clock.set(hold.booking.slot.start)
    with pytest.raises(IllegalTransition, match="started"):
        await world.service.cancel_for_practitioner(hold.booking.id, "ill", after_start=False)
    assert (await world.service.booking(hold.booking.id)).status is BookingStatus.CONFIRMED
    world.clock.set(hold.booking.slot.start - timedelta(minutes=1))
    cancelled = await world.service.cancel_for_practitioner(hold.booking.id, "ill", after_start=False)
    assert (cancelled.status, cancelled.amount_refunded) == (BookingStatus.CANCELLED, Money(9000, "EUR"))


async def test_the_practitioners_reason_is_at_most_500_characters_and_blank_is_none() -> None:
    world = World()
    hold, _ = await _paid_booking(world)
    with pytest.raises(InvalidInput) as caught:
        await world.service.cancel_for_practitioner(hold.booking.id, "x" * 501, after_start=False)
    assert set(caught.value.fields) == {"reason"}
    assert (await world.service.booking(hold.booking.id)).status is BookingStatus.CONFIRMED
    cancelled = await world.service.cancel_for_practitioner(hold.booking.id, " \n ", after_start=False)
    [*_, cancelling, _refund] = await world.store.history(hold.booking.id)
    assert cancelled.status is BookingStatus.CANCELLED
    assert cancelling.reason == PRACTITIONER_CANCELLED


async def test_the_clients_return_confirms_a_payment_whose_webhook_is_lost() -> None:
    world = World()
    hold = await world.service.request_booking(request((await _first_slot(world)).start))
    session = str(hold.booking.checkout_session_id)
    world.gateway.pay(session)  # the webhook never arrives

    stranger = await world.service.check_checkout(hold.booking, "cs_fake_someone_else")
    back = await world.service.check_checkout(hold.booking, session)

    assert stranger.status is BookingStatus.PENDING_PAYMENT  # a session id that is not its own
    assert (back.status, back.amount_paid) == (BookingStatus.CONFIRMED, hold.booking.price)
    assert await world.service.check_checkout(back, session) == back  # nothing more to do


async def test_the_clients_return_before_paying_changes_nothing() -> None:
    world = World()
    hold = await world.service.request_booking(request((await _first_slot(world)).start))
    session = str(hold.booking.checkout_session_id)
    assert await world.service.check_checkout(hold.booking, session) == hold.booking
    world.gateway.failing = True
    assert await world.service.check_checkout(hold.booking, session) == hold.booking
