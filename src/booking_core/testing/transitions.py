"""Any trigger by name, through the booking's typed transition with sample values: for tests that
walk the transition table (booking_core.booking.TRANSITIONS) rather than tell a booking's story."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from booking_core.booking import Booking, Transition, Trigger
from booking_core.money import Money
from booking_core.offer import Offer
from booking_core.payment import ReceivedPayment
from booking_core.timerange import TimeRange


def take(booking: Booking, trigger: Trigger, at: datetime, reason: str = "sample") -> Transition:
    """`booking` after `trigger` at `at` (a payment of its price, a refund of what it owes; for
    completed and no-show, at the session's end if `at` is before it)."""
    return _BY_TRIGGER[trigger](booking, at, reason)


def _payment(booking: Booking) -> ReceivedPayment:
    return ReceivedPayment(booking.price, f"pi_{booking.id}", None)


def _an_hour_later(booking: Booking, at: datetime, reason: str) -> Transition:
    slot = booking.slot
    offer = Offer(slot.duration, booking.price)
    later = TimeRange.of(slot.start + timedelta(hours=1), slot.duration)
    return booking.reschedule(later, offer=offer, at=at, reason=reason, by_practitioner=True)


def _after_session(booking: Booking, at: datetime) -> datetime:
    """`at`, or the session's end if `at` is before it: attendance is recorded once it is over."""
    return max(at, booking.slot.end)


def _part_of_price(booking: Booking) -> Money:
    return Money(booking.price.amount // 2, booking.price.currency)


_BY_TRIGGER: dict[Trigger, Callable[[Booking, datetime, str], Transition]] = {
    Trigger.PAYMENT_CONFIRMED: lambda b, at, why: b.confirm_payment(_payment(b), at=at, reason=why),
    Trigger.HOLD_RELEASED: lambda b, at, why: b.release(at=at, reason=why),
    Trigger.CANCELLED: lambda b, at, why: b.cancel_by_practitioner(at=at, reason=why),
    Trigger.LATE_PAYMENT_REFUND_DUE: lambda b, at, why: b.owe_late_refund(_payment(b), at=at, reason=why),
    Trigger.REFUND_ISSUED: lambda b, at, why: b.record_refund(
        refund_id=f"re_{b.id}", amount=b.refund_owed, at=at, reason=why
    ),
    Trigger.REFUNDED_OUTSIDE: lambda b, at, _why: b.refunded_outside(b.price, refund_id=f"re_{b.id}", at=at),
    Trigger.PARTIAL_REFUND_RECORDED: lambda b, at, _why: b.record_partial_refund(_part_of_price(b), at=at),
    Trigger.RESCHEDULED: _an_hour_later,
    Trigger.COMPLETED: lambda b, at, _why: b.complete(at=_after_session(b, at)),
    Trigger.NO_SHOW_MARKED: lambda b, at, _why: b.mark_no_show(at=_after_session(b, at)),
    Trigger.NO_SHOW_UNDONE: lambda b, at, _why: b.undo_no_show(at=_after_session(b, at)),
}
