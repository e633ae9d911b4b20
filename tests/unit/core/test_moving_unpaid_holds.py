"""Moving a hold that waits for its payment (booking_core.rescheduling): its Checkout Session, whose
page names the time, is replaced by one naming the new time; the old page is closed. Over the fakes:
the normal path, the old page paid just before the move, the provider down, the old page left open
(a payment there still counts, and a payment on both pages ends in one refund)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from attrs import define

from booking_adapters.memory import FakePaymentGateway
from booking_core import (
    BookingHold,
    BookingStatus,
    PaymentEvent,
    PaymentEventKind,
    PaymentOutcome,
    PaymentProviderError,
    SlotUnavailable,
    TimeRange,
    Trigger,
)
from booking_core.checkouts import product_name

from .fixtures import MONDAY, World, practitioner, request

pytestmark = pytest.mark.anyio
WEDNESDAY = MONDAY + timedelta(days=2)
PRICE = practitioner().offer.price


@define
class ExpiryFails(FakePaymentGateway):
    """A provider that opens checkouts but, while `expiry_fails`, cannot be asked to close one."""

    expiry_fails: bool = True

    async def expire_checkout(self, session_id: str) -> PaymentEvent:
        if self.expiry_fails:
            raise PaymentProviderError("The payment provider is not answering. Please try again shortly.")
        return await super().expire_checkout(session_id)


async def _slots(world: World, day: datetime = WEDNESDAY) -> list[TimeRange]:
    return list((await world.service.list_availability("jane", TimeRange.of(day, timedelta(days=1)))).slots)


async def _held(world: World, start: datetime) -> tuple[BookingHold, str]:
    hold = await world.service.request_booking(request(start))
    assert hold.booking.checkout_session_id is not None
    return hold, hold.booking.checkout_session_id


def _label(slot: TimeRange) -> str:
    jane = practitioner()
    return product_name(jane, jane.service(None), slot)


async def test_a_moved_hold_pays_at_a_new_page_that_names_the_new_time() -> None:
    world = World()
    first, second, *_ = await _slots(world)
    hold, old = await _held(world, first.start)
    moved = await world.service.reschedule_booking(hold.booking.id, hold.cancel_token, second.start)

    new = moved.checkout_session_id
    assert (moved.status, moved.slot, moved.hold_expires_at) == (
        BookingStatus.PENDING_PAYMENT,
        second,
        hold.booking.hold_expires_at,
    )
    assert new is not None and new != old and moved.replaced_checkouts == (old,)
    assert moved.checkout_url not in (None, hold.booking.checkout_url)
    assert await world.service.booking(moved.id) == moved
    page, closed = world.gateway.sessions[new], world.gateway.sessions[old]
    assert (closed.status, closed.product_name) == ("expired", _label(first))
    assert (page.status, page.product_name, page.amount) == ("open", _label(second), PRICE)
    assert page.expires_at == hold.booking.hold_expires_at  # the hold lapses when it did
    assert page.idempotency_key.startswith(f"checkout-{moved.id}-move-1-")

    # the old page's expiry, as the provider reports it, says nothing of the booking
    assert await world.service.apply_payment_event(world.gateway.expire(old)) is PaymentOutcome.IGNORED
    assert (await world.service.booking(moved.id)).status is BookingStatus.PENDING_PAYMENT
    # paying at the new page confirms the booking at its new time
    assert await world.service.apply_payment_event(world.gateway.pay(new)) is PaymentOutcome.CONFIRMED
    paid = await world.service.booking(moved.id)
    assert (paid.status, paid.slot, paid.amount_paid) == (BookingStatus.CONFIRMED, second, PRICE)


async def test_each_move_replaces_the_page_again_and_the_practitioner_moves_replace_it_too() -> None:
    world = World()
    first, second, third, *_ = await _slots(world)
    hold, old = await _held(world, first.start)
    once = await world.service.reschedule_booking(hold.booking.id, hold.cancel_token, second.start)
    twice = await world.service.reschedule_for_practitioner(hold.booking.id, third.start)
    assert once.checkout_session_id is not None and twice.checkout_session_id is not None
    assert twice.replaced_checkouts == (old, once.checkout_session_id)
    assert world.gateway.sessions[twice.checkout_session_id].product_name == _label(third)
    assert world.gateway.sessions[twice.checkout_session_id].idempotency_key.startswith(
        f"checkout-{hold.booking.id}-move-2-"
    )
    assert [s.status for s in world.gateway.sessions.values()] == ["expired", "expired", "open"]


async def test_the_old_page_paid_just_before_the_move_confirms_the_booking_at_its_new_time() -> None:
    world = World()
    first, second, *_ = await _slots(world)
    hold, old = await _held(world, first.start)
    late_webhook = world.gateway.pay(old)  # paid; its webhook not yet delivered

    moved = await world.service.reschedule_booking(hold.booking.id, hold.cancel_token, second.start)

    assert (moved.status, moved.slot, moved.amount_paid) == (BookingStatus.CONFIRMED, second, PRICE)
    assert moved.payment_intent_id == f"pi_fake_{old}"
    assert moved.checkout_session_id is not None
    assert world.gateway.sessions[moved.checkout_session_id].status == "expired"  # the new page closed
    history = [event.trigger for event in await world.store.history(moved.id)]
    assert history[-2:] == [Trigger.RESCHEDULED, Trigger.PAYMENT_CONFIRMED]
    # the old page's own webhook, however late, finds its payment recorded: nothing to refund
    assert await world.service.apply_payment_event(late_webhook) is PaymentOutcome.DUPLICATE
    assert world.gateway.refunds == {}
    assert await world.service.booking(moved.id) == moved
    assert first in await _slots(world) and second not in await _slots(world)


async def test_with_the_provider_down_the_move_is_refused_and_nothing_changes() -> None:
    world = World()
    first, second, *_ = await _slots(world)
    hold, old = await _held(world, first.start)
    world.gateway.failing = True
    with pytest.raises(PaymentProviderError):
        await world.service.reschedule_booking(hold.booking.id, hold.cancel_token, second.start)
    world.gateway.failing = False
    assert await world.service.booking(hold.booking.id) == hold.booking  # old time, old page
    assert [(s.id, s.status) for s in world.gateway.sessions.values()] == [(old, "open")]
    offered = await _slots(world)
    assert first not in offered and second in offered
    # and once the provider answers again, the move goes through
    moved = await world.service.reschedule_booking(hold.booking.id, hold.cancel_token, second.start)
    assert moved.slot == second and moved.replaced_checkouts == (old,)


async def test_a_move_to_a_time_taken_meanwhile_keeps_the_old_page_and_closes_the_unused_one() -> None:
    world = World()
    first, second, third, *_ = await _slots(world)
    hold, old = await _held(world, first.start)
    await world.service.request_booking(request(second.start))  # someone holds it
    with pytest.raises(SlotUnavailable):
        await world.service.reschedule_for_practitioner(hold.booking.id, second.start)
    assert await world.service.booking(hold.booking.id) == hold.booking
    unused = [s for s in world.gateway.sessions.values() if s.booking_id == hold.booking.id and s.id != old]
    assert world.gateway.sessions[old].status == "open"
    assert [s.status for s in unused] == ["expired"]  # nobody saw its address; closed all the same
    moved = await world.service.reschedule_for_practitioner(hold.booking.id, third.start)
    assert moved.slot == third and moved.replaced_checkouts == (old,)


async def test_an_old_page_the_provider_could_not_close_still_confirms_the_booking_when_paid() -> None:
    world = World(gateway=ExpiryFails())
    first, second, *_ = await _slots(world)
    hold, old = await _held(world, first.start)
    moved = await world.service.reschedule_booking(hold.booking.id, hold.cancel_token, second.start)
    assert moved.slot == second and moved.replaced_checkouts == (old,)  # moved; the old page still open
    assert world.gateway.sessions[old].status == "open"

    assert await world.service.apply_payment_event(world.gateway.pay(old)) is PaymentOutcome.CONFIRMED
    paid = await world.service.booking(hold.booking.id)
    assert (paid.status, paid.slot, paid.amount_paid) == (BookingStatus.CONFIRMED, second, PRICE)


async def test_a_client_back_from_the_old_page_is_confirmed_by_asking_about_it() -> None:
    world = World(gateway=ExpiryFails())
    first, second, *_ = await _slots(world)
    hold, old = await _held(world, first.start)
    moved = await world.service.reschedule_booking(hold.booking.id, hold.cancel_token, second.start)
    world.gateway.pay(old)  # its webhook lost
    assert (await world.service.check_checkout(moved, "cs_unknown")).status is BookingStatus.PENDING_PAYMENT
    checked = await world.service.check_checkout(moved, old)
    assert (checked.status, checked.slot) == (BookingStatus.CONFIRMED, second)


@pytest.mark.parametrize("old_first", [True, False], ids=["old-page-first", "new-page-first"])
async def test_a_payment_on_both_pages_ends_in_one_booking_and_one_refund(old_first: bool) -> None:
    world = World(gateway=ExpiryFails())
    first, second, *_ = await _slots(world)
    hold, old = await _held(world, first.start)
    moved = await world.service.reschedule_booking(hold.booking.id, hold.cancel_token, second.start)
    assert moved.checkout_session_id is not None
    pages = [old, moved.checkout_session_id]
    earlier, later = pages if old_first else pages[::-1]
    payments = [world.gateway.pay(earlier), world.gateway.pay(later)]

    outcomes = [await world.service.apply_payment_event(event) for event in payments]

    assert outcomes == [PaymentOutcome.CONFIRMED, PaymentOutcome.REFUND_REQUESTED]
    booking = await world.service.booking(hold.booking.id)
    assert (booking.status, booking.slot, booking.amount_paid) == (BookingStatus.CONFIRMED, second, PRICE)
    assert booking.payment_intent_id == f"pi_fake_{earlier}"
    [(key, refund)] = world.gateway.refunds.items()
    assert (key, refund.amount) == (f"refund-{booking.id}-pi_fake_{later}", PRICE)
    # the refund's own event, and the second payment delivered again, leave the booking standing
    refund_event = PaymentEvent(
        "evt_refund",
        PaymentEventKind.REFUNDED,
        booking.id,
        payment_intent_id=f"pi_fake_{later}",
        refund_id=refund.id,
        refunded=PRICE,
        refunded_total=PRICE,
    )
    assert await world.service.apply_payment_event(refund_event) is PaymentOutcome.IGNORED
    assert await world.service.apply_payment_event(payments[1]) is PaymentOutcome.DUPLICATE
    assert await world.service.booking(booking.id) == booking
    assert len(world.gateway.refunds) == 1


async def test_a_second_payment_whose_refund_fails_is_refunded_when_its_webhook_comes_again() -> None:
    world = World(gateway=ExpiryFails())
    first, second, *_ = await _slots(world)
    hold, old = await _held(world, first.start)
    moved = await world.service.reschedule_booking(hold.booking.id, hold.cancel_token, second.start)
    assert moved.checkout_session_id is not None
    await world.service.apply_payment_event(world.gateway.pay(old))
    again = world.gateway.pay(moved.checkout_session_id)
    world.gateway.failing = True
    with pytest.raises(PaymentProviderError):  # the webhook answers 503: the provider delivers again
        await world.service.apply_payment_event(again)
    world.gateway.failing = False
    assert await world.service.apply_payment_event(again) is PaymentOutcome.REFUND_REQUESTED
    assert len(world.gateway.refunds) == 1


async def test_housekeeping_finds_a_payment_on_an_old_page_whose_webhook_was_lost() -> None:
    world = World(gateway=ExpiryFails())
    first, second, *_ = await _slots(world)
    hold, old = await _held(world, first.start)
    moved = await world.service.reschedule_booking(hold.booking.id, hold.cancel_token, second.start)
    world.gateway.pay(old)  # its webhook lost
    world.gateway.expiry_fails = False
    world.clock.set(moved.hold_expires_at)

    report = await world.service.reconcile()

    assert (report.holds_checked, report.confirmed, report.released) == (1, 1, 0)
    booking = await world.service.booking(moved.id)
    assert (booking.status, booking.slot, booking.payment_intent_id) == (
        BookingStatus.CONFIRMED,
        second,
        f"pi_fake_{old}",
    )
    assert world.gateway.sessions[str(moved.checkout_session_id)].status == "expired"


async def test_housekeeping_keeps_asking_while_an_old_page_cannot_be_closed() -> None:
    world = World(gateway=ExpiryFails())
    first, second, *_ = await _slots(world)
    hold, old = await _held(world, first.start)
    moved = await world.service.reschedule_booking(hold.booking.id, hold.cancel_token, second.start)
    world.clock.set(moved.hold_expires_at)
    await world.service.reconcile()  # the provider cannot close any page: released, to be checked
    assert (await world.service.booking(moved.id)).payment_check_due
    world.gateway.expiry_fails = False
    world.gateway.pay(old)  # paid late; its webhook lost
    assert await world.service.check_payments() == (1, 1)
    booking = await world.service.booking(moved.id)
    assert (booking.status, booking.payment_check_due) == (BookingStatus.CONFIRMED, False)
