"""The cancellation policy in the words the client reads before paying and in the confirmation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking_core import CancellationPolicy, Money


@pytest.mark.parametrize(
    ("notice", "late_percent", "words"),
    [
        (
            timedelta(hours=24),
            50,
            "Full refund if you cancel at least 24 hours before the session; after that, 50 % refund.",
        ),
        (
            timedelta(hours=24),
            0,
            "Full refund if you cancel at least 24 hours before the session; after that, no refund.",
        ),
        (
            timedelta(hours=1),
            10,
            "Full refund if you cancel at least 1 hour before the session; after that, 10 % refund.",
        ),
        (
            timedelta(minutes=90),
            0,
            "Full refund if you cancel at least 90 minutes before the session; after that, no refund.",
        ),
        (timedelta(hours=48), 100, "Full refund if you cancel before the session starts."),
        (timedelta(0), 0, "Full refund if you cancel before the session starts."),
    ],
)
def test_the_policy_in_words(notice: timedelta, late_percent: int, words: str) -> None:
    assert CancellationPolicy(notice, late_percent).in_words() == words


@pytest.mark.parametrize("late_percent", [0, 50, 100])
def test_the_words_say_what_refund_for_does(late_percent: int) -> None:
    """ "Before the session starts" (notice 0) is true: a started session cannot be cancelled."""
    policy, paid = CancellationPolicy(timedelta(hours=24), late_percent), Money(9000, "EUR")
    assert policy.refund_for(paid, timedelta(hours=24)) == paid
    late = policy.refund_for(paid, timedelta(hours=23))
    words = policy.in_words()
    if late == paid:
        assert words == "Full refund if you cancel before the session starts."
    elif late.amount == 0:
        assert words.endswith("after that, no refund.")
    else:
        assert words.endswith(f"after that, {late.amount * 100 // paid.amount} % refund.")
