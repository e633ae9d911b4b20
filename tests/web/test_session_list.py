"""How the bookings page words a session's payment, through a booking's life."""

from __future__ import annotations

from datetime import timedelta

from booking_core import Money, Trigger
from booking_core.testing.contracts import NOW, hold, transition
from booking_web.session_list import payment_in_words, sessions_by_day


def test_the_payment_in_words_through_a_bookings_life() -> None:
    held, _ = hold("bk", 540)
    assert payment_in_words(held) == "Not paid yet"
    paid, _ = transition(held, Trigger.PAYMENT_CONFIRMED, NOW)
    assert payment_in_words(paid) == "Paid 90.00 EUR"
    cancelled, _ = transition(paid, Trigger.CANCELLED, NOW)
    assert payment_in_words(cancelled) == "Paid 90.00 EUR; refund of 90.00 EUR on its way"
    refunded, _ = transition(cancelled, Trigger.REFUND_ISSUED, NOW)
    assert payment_in_words(refunded) == "Paid 90.00 EUR; 90.00 EUR refunded"
    released, _ = transition(held, Trigger.HOLD_RELEASED, NOW)
    assert payment_in_words(released) == "Not paid"


def test_a_free_session_says_so() -> None:
    free, _ = hold("bk", 540, price=Money(0, "EUR"))
    assert payment_in_words(free) == "Free"


def test_sessions_are_grouped_by_local_day() -> None:
    late_evening, _ = hold("late", 23 * 60 + 30)  # 23:30 UTC: 00:30 the next day in Berlin
    morning, _ = hold("morning", 8 * 60)
    days = sessions_by_day([morning, late_evening], "Europe/Berlin", NOW + timedelta(days=30))
    assert [(str(day), [line.booking.id for line in lines]) for day, lines in days] == [
        ("2030-01-08", ["morning"]),
        ("2030-01-09", ["late"]),
    ]
    assert all(line.past for _, lines in days for line in lines)
