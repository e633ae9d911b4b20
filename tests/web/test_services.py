"""Services through the API and the pages (issue 14 item 3): the practitioner lists them, availability
and bookings name one when there are several, the booking answer and pages carry it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from attrs import evolve
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.testclient import TestClient

from booking_core import Money, Practitioner, Service
from booking_web.demo import DEMO_PRACTITIONERS
from tests.web.test_api import MONDAY, book
from tests.web.test_pages import HTML, WEEK, form_fields

INTRO = Service("intro", "Intro call", timedelta(minutes=20), Money(3000, "EUR"))
DOUBLE = Service(
    "double-session",
    "Double session",
    timedelta(minutes=100),
    Money(17000, "EUR"),
    buffer_before=timedelta(minutes=10),
    min_notice=timedelta(days=2),
)
ADA = evolve(
    DEMO_PRACTITIONERS[0],
    id="ada-ng",
    name="Ada Ng",
    services=(INTRO, Service("session", "Session", timedelta(minutes=50), Money(9000, "EUR")), DOUBLE),
)


def _upsert(client: TestClient, practitioner: Practitioner) -> None:
    service = client.app.state.booking  # type: ignore[attr-defined]
    client.portal.call(service.directory.upsert, practitioner)  # type: ignore[union-attr]


@pytest.fixture
def ada(client: TestClient) -> TestClient:
    _upsert(client, ADA)
    return client


@pytest.fixture
def ada_pages(memory_client: TestClient) -> TestClient:
    _upsert(memory_client, ADA)
    return memory_client


def _availability(client: TestClient, **params: str) -> Any:
    return client.get(
        "/api/practitioners/ada-ng/availability", params={"start": MONDAY, "end": MONDAY} | params
    )


def _validate(client: TestClient, schema_name: str, instance: Any) -> None:
    document = client.get("/openapi.json").json()
    registry: Registry[Any] = Registry().with_resource(
        "urn:booking", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    schema = {"$ref": f"urn:booking#/components/schemas/{schema_name}"}
    Draft202012Validator(schema, registry=registry).validate(instance)


def test_the_practitioner_lists_their_services(ada: TestClient) -> None:
    practitioner = ada.get("/api/practitioners/ada-ng").json()
    assert [(s["id"], s["name"], s["minutes"], s["price"]["amount"]) for s in practitioner["services"]] == [
        ("intro", "Intro call", 20, 3000),
        ("session", "Session", 50, 9000),
        ("double-session", "Double session", 100, 17000),
    ]
    assert practitioner["services"][2]["min_notice_hours"] == 48  # its own
    assert practitioner["services"][0]["min_notice_hours"] == 12  # the practitioner's
    _validate(ada, "Practitioner", practitioner)
    jane = ada.get("/api/practitioners/jane-doe").json()  # no services listed: the one of the offer
    assert [(s["id"], s["minutes"]) for s in jane["services"]] == [("session", 50)]


def test_availability_is_per_service_and_needs_one_among_several(ada: TestClient) -> None:
    for params, says in (({}, "Choose a service"), ({"service": "massage"}, "no service 'massage'")):
        refused = _availability(ada, **params)
        assert refused.status_code == 422
        assert list(refused.json()["error"]["fields"]) == ["service"]
        assert says in refused.json()["error"]["fields"]["service"]
    intro = _availability(ada, service="intro").json()
    assert intro["service_id"] == "intro"
    first = intro["slots"][0]
    assert (first["start"], first["end"]) == ("2030-01-14T09:00:00+01:00", "2030-01-14T09:20:00+01:00")
    _validate(ada, "Availability", intro)
    session = _availability(ada, service="session").json()["slots"]
    assert session[0]["end"] == "2030-01-14T09:50:00+01:00"
    jane = ada.get("/api/practitioners/jane-doe/availability", params={"start": MONDAY, "end": MONDAY})
    assert jane.json()["service_id"] == "session"  # one service: `service` may be left out


def test_a_booking_names_its_service_and_blocks_the_others(ada: TestClient) -> None:
    start = _availability(ada, service="session").json()["slots"][0]["start"]
    missing = book(ada, start, practitioner_id="ada-ng")
    assert missing.status_code == 422
    assert list(missing.json()["error"]["fields"]) == ["service_id"]
    created = book(ada, start, practitioner_id="ada-ng", service_id="session")
    assert created.status_code == 201
    booking = created.json()
    assert booking["service"] == {"id": "session", "name": "Session", "minutes": 50}
    assert booking["price"]["amount"] == 9000
    _validate(ada, "NewBooking", booking)
    assert ada.get(f"/api/bookings/{booking['id']}").json()["service"] == booking["service"]
    # the session (plus the practitioner's 10 minutes after) is taken for every service
    intro_starts = [slot["start"] for slot in _availability(ada, service="intro").json()["slots"]]
    assert start not in intro_starts
    taken = book(ada, start, practitioner_id="ada-ng", service_id="intro")
    assert taken.status_code == 409


def test_the_schema_describes_the_service_parameters(ada: TestClient) -> None:
    document = ada.get("/openapi.json").json()
    availability = document["paths"]["/api/practitioners/{practitioner_id}/availability"]["get"]
    assert "service" in [parameter["name"] for parameter in availability["parameters"]]
    request = document["components"]["schemas"]["BookingRequest"]
    assert "service_id" in request["properties"]
    assert "service_id" not in request.get("required", [])


# -- pages -----------------------------------------------------------------------------------------


def test_the_booking_page_asks_for_the_service_first(ada_pages: TestClient) -> None:
    page = ada_pages.get("/book/ada-ng", params={"week": WEEK}, headers=HTML)
    assert page.status_code == 200
    assert "Choose a service" in page.text
    assert 'name="start"' not in page.text  # no times before a service is chosen
    links = re.findall(r'href="\?service=([\w-]+)&amp;', page.text)
    assert links == ["intro", "session", "double-session"]
    assert "Intro call</a>" in page.text and "20 minutes, 30.00 EUR" in page.text


def test_a_chosen_service_shows_its_times_and_books_it(ada_pages: TestClient) -> None:
    page = ada_pages.get("/book/ada-ng", params={"week": WEEK, "service": "intro"}, headers=HTML)
    assert "Intro call: 20 minutes, 30.00 EUR" in page.text
    assert "Choose another service" in page.text
    assert 'value="2030-01-14T09:00:00+01:00"' in page.text
    assert re.search(r'rel="next" href="[^"]*&amp;service=intro"', page.text)  # the week links keep it
    fields = form_fields(page.text)
    assert fields["service"] == "intro"
    data = fields | {
        "name": "Ann Example",
        "email": "ann@example.com",
        "phone": "+49 30 1234567",
        "start": "2030-01-14T09:00:00+01:00",
    }
    response = ada_pages.post("/book/ada-ng", data=data, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    service = ada_pages.app.state.booking  # type: ignore[attr-defined]
    (booking,) = service.store.all_bookings()
    assert (booking.service_id, booking.slot.duration) == ("intro", timedelta(minutes=20))


def test_a_form_without_a_service_asks_for_one(ada_pages: TestClient) -> None:
    page = ada_pages.get("/book/ada-ng", params={"week": WEEK, "service": "intro"}, headers=HTML)
    data = form_fields(page.text) | {
        "service": "",
        "name": "Ann Example",
        "email": "ann@example.com",
        "phone": "+49 30 1234567",
        "start": "2030-01-14T09:00:00+01:00",
    }
    response = ada_pages.post("/book/ada-ng", data=data, headers=HTML, follow_redirects=False)
    assert response.status_code == 422
    assert "Please choose a service." in response.text


def test_one_service_needs_no_extra_step(memory_client: TestClient) -> None:
    page = memory_client.get("/book/jane-doe", params={"week": WEEK}, headers=HTML)
    assert "Choose a service" not in page.text
    assert "50-minute session, 90.00 EUR" in page.text
    assert 'name="start"' in page.text
