"""Two demo practitioners for the embedded default, in different time zones."""

from __future__ import annotations

from datetime import timedelta

from booking_core import LocalHours, Money, Offer, Practitioner, WeeklySchedule


def _hours(*spans: str) -> list[LocalHours]:
    return [LocalHours.parse(span) for span in spans]


DEMO_PRACTITIONERS = (
    Practitioner(
        id="jane-doe",
        name="Dr. Jane Doe",
        email="jane.doe@example.com",  # so that signing in at /practitioner/login works in the demo
        offer=Offer(
            session_length=timedelta(minutes=50),
            price=Money.parse("90.00", "EUR"),
            buffer_after=timedelta(minutes=10),
            min_notice=timedelta(hours=12),
            horizon=timedelta(days=60),
        ),
        schedule=WeeklySchedule(
            "Europe/Berlin",
            {
                "mon": _hours("09:00-12:00", "13:00-17:00"),
                "tue": _hours("09:00-17:00"),
                "wed": _hours("09:00-17:00"),
                "thu": _hours("13:00-19:00"),
                "fri": _hours("09:00-13:00"),
            },
        ),
    ),
    Practitioner(
        id="sam-lee",
        name="Sam Lee, Career Coach",
        email="sam.lee@example.com",
        offer=Offer(
            session_length=timedelta(minutes=30),
            price=Money.parse("45.00", "USD"),
            buffer_before=timedelta(minutes=5),
            buffer_after=timedelta(minutes=5),
            min_notice=timedelta(hours=2),
            horizon=timedelta(days=30),
        ),
        schedule=WeeklySchedule(
            "America/New_York",
            {
                "mon": _hours("08:00-12:00"),
                "tue": _hours("08:00-12:00", "17:00-20:00"),
                "thu": _hours("10:00-16:00"),
                "sat": _hours("09:00-12:00"),
            },
        ),
    ),
)
