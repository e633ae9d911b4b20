"""Booking limits through the API and the pages (issue 14 item 5), the issue's "done when": a
practitioner with a free intro call and a paid session, at most 3 bookings a day; a day with 3
shows no more slots and a 4th is refused; week and service limits the same way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from attrs import evolve
from starlette.testclient import TestClient

from booking_adapters.memory import ManualClock
from booking_core import BookingLimits, Practitioner
from tests.web.test_api import MONDAY, book
from tests.web.test_free_services import INTRO, MIA, SESSION, _with
from tests.web.test_pages import HTML, WEEK
from tests.web.test_services import _validate

TUESDAY = "2030-01-15"
NEXT_MONDAY = "2030-01-21"
DAY_LIMITED = evolve(MIA, limits=BookingLimits(per_day=3))


def _slots(client: TestClient, service_id: str, day: str = MONDAY) -> list[str]:
    answer = client.get(
        "/api/practitioners/mia-free/availability",
        params={"start": day, "end": day, "service": service_id},
    )
    assert answer.status_code == 200
    return [slot["start"] for slot in answer.json()["slots"]]


def _book(client: TestClient, start: str, service_id: str, number: int) -> Any:
    who = {
        "name": f"Client {number}",
        "email": f"c{number}@example.com",
        "phone": f"+49 30 12345{number:02d}",
    }
    return book(client, start, practitioner_id="mia-free", service_id=service_id, **who)


@pytest.fixture
def limited(client: TestClient) -> TestClient:
    return _with(client, DAY_LIMITED)


def test_the_practitioner_states_the_limits(client: TestClient) -> None:
    practitioner = evolve(
        DAY_LIMITED,
        limits=BookingLimits(per_day=3, per_week=12),
        services=(evolve(INTRO, limits=BookingLimits(per_day=1)), SESSION),
    )
    answer = _with(client, practitioner).get("/api/practitioners/mia-free").json()
    assert (answer["max_bookings_per_day"], answer["max_bookings_per_week"]) == (3, 12)
    intro, session = answer["services"]
    assert intro["max_bookings_per_day"] == 1 and "max_bookings_per_week" not in intro
    assert "max_bookings_per_day" not in session  # sent only when set
    _validate(client, "Practitioner", answer)
    jane = client.get("/api/practitioners/jane-doe").json()
    assert "max_bookings_per_day" not in jane and "max_bookings_per_week" not in jane


def test_a_day_with_three_bookings_shows_no_more_slots_and_refuses_a_fourth(limited: TestClient) -> None:
    """Free intro calls and paid sessions count alike; the day after is untouched."""
    intro, session = _slots(limited, "intro"), _slots(limited, "session")
    assert _book(limited, intro[0], "intro", 1).json()["status"] == "confirmed"
    assert _book(limited, session[-1], "session", 2).json()["status"] == "pending_payment"
    third = _slots(limited, "intro")[2]
    assert _book(limited, third, "intro", 3).status_code == 201
    assert _slots(limited, "intro") == [] and _slots(limited, "session") == []
    refused = _book(limited, session[2], "session", 4)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "booking_limit_reached"
    assert error["message"].startswith(
        "This day is fully booked: the practitioner takes at most 3 bookings a day."
    )
    assert _slots(limited, "session", TUESDAY)  # another day has room


def test_a_cancellation_or_a_lapsed_hold_gives_the_place_back(
    limited: TestClient, clock: ManualClock
) -> None:
    made = [_book(limited, _slots(limited, "intro")[n], "intro", n).json() for n in range(2)]
    _book(limited, _slots(limited, "session")[-1], "session", 5)  # a hold: counts while it stands
    assert _slots(limited, "intro") == []
    limited.post(f"/api/bookings/{made[0]['id']}/cancel", json={"cancel_token": made[0]["cancel_token"]})
    assert _slots(limited, "intro")  # the cancelled free call counts no more
    assert _book(limited, _slots(limited, "intro")[0], "intro", 6).status_code == 201
    assert _slots(limited, "intro") == []
    clock.advance(timedelta(hours=1))  # the session's hold lapses unpaid
    assert _slots(limited, "intro")


def test_a_weeks_limit_closes_the_whole_week(client: TestClient) -> None:
    weekly = _with(client, evolve(MIA, limits=BookingLimits(per_week=2)))
    friday = _slots(weekly, "session", "2030-01-18")[0]
    _book(weekly, _slots(weekly, "intro")[0], "intro", 1)
    _book(weekly, _slots(weekly, "intro", TUESDAY)[0], "intro", 2)
    for day in (MONDAY, TUESDAY, "2030-01-18"):
        assert _slots(weekly, "intro", day) == [] and _slots(weekly, "session", day) == []
    assert _slots(weekly, "intro", NEXT_MONDAY)  # weeks run from Monday
    refused = _book(weekly, friday, "session", 3)
    assert refused.status_code == 409
    assert "This week is fully booked" in refused.json()["error"]["message"]


def test_a_services_own_limit_closes_that_service_only(client: TestClient) -> None:
    practitioner: Practitioner = evolve(
        MIA, services=(evolve(INTRO, limits=BookingLimits(per_day=1)), SESSION)
    )
    mia = _with(client, practitioner)
    _book(mia, _slots(mia, "intro")[0], "intro", 1)
    assert _slots(mia, "intro") == []
    assert _slots(mia, "session")
    assert _book(mia, _slots(mia, "session")[0], "session", 2).status_code == 201


def test_the_page_of_a_full_day_offers_no_time_on_it(memory_client: TestClient) -> None:
    limited = _with(memory_client, DAY_LIMITED)
    for number in range(3):
        _book(limited, _slots(limited, "intro")[0], "intro", number)
    page = limited.get("/book/mia-free", params={"week": WEEK, "service": "intro"}, headers=HTML)
    assert 'value="2030-01-14T' not in page.text  # Monday: full
    assert 'value="2030-01-15T09:00:00+01:00"' in page.text
