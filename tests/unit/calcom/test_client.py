"""The Cal.com client in isolation (respx): request shape, retries, Retry-After, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from booking_adapters.calcom import CalcomAttendee, CalcomClient, CalcomSlotTaken
from booking_adapters.calcom.client import open_http
from booking_core import AvailabilityProviderError, TimeRange
from tests.contract.availability_fixtures import RecordedSleeps, fast_settings

BASE = "http://calcom.test"
WINDOW = TimeRange(datetime(2030, 1, 7, tzinfo=UTC), datetime(2030, 1, 8, tzinfo=UTC))
SLOTS_BODY = {
    "status": "success",
    "data": {
        "2030-01-07": [
            {"start": "2030-01-07T09:00:00.000+01:00", "end": "2030-01-07T09:50:00.000+01:00"},
            {"start": "2030-01-07T10:00:00.000+01:00", "end": "2030-01-07T10:50:00.000+01:00"},
        ]
    },
}
pytestmark = pytest.mark.anyio


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
async def client(sleeps: RecordedSleeps) -> CalcomClient:
    settings = fast_settings(BASE, retry_attempts=3)
    async with open_http(settings) as http:
        yield CalcomClient(http, settings, sleeps)


@respx.mock
async def test_slots_request_follows_the_api_and_parses_objects_into_utc(client: CalcomClient) -> None:
    route = respx.get(f"{BASE}/v2/slots").respond(200, json=SLOTS_BODY)

    starts = await client.slot_starts(77, WINDOW, "Europe/Berlin")

    assert starts == [datetime(2030, 1, 7, 8, tzinfo=UTC), datetime(2030, 1, 7, 9, tzinfo=UTC)]
    request = route.calls.last.request
    assert request.headers["cal-api-version"] == "2024-09-04"
    assert request.headers["authorization"] == "Bearer cal_test_fake_key"
    assert dict(request.url.params) == {
        "eventTypeId": "77",
        "start": "2030-01-07T00:00:00Z",
        "end": "2030-01-08T00:00:00Z",
        "timeZone": "Europe/Berlin",
        "format": "range",
    }


@respx.mock
async def test_slots_for_a_move_name_the_booking_being_rescheduled(client: CalcomClient) -> None:
    route = respx.get(f"{BASE}/v2/slots").respond(200, json=SLOTS_BODY)

    await client.slot_starts(77, WINDOW, "Europe/Berlin", rescheduling="uid/1")

    assert route.calls.last.request.url.params["bookingUidToReschedule"] == "uid/1"


@respx.mock
async def test_429_is_retried_after_the_wait_the_server_asked_for(
    client: CalcomClient, sleeps: RecordedSleeps
) -> None:
    route = respx.get(f"{BASE}/v2/slots")
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(200, json=SLOTS_BODY),
    ]

    assert len(await client.slot_starts(77, WINDOW, "UTC")) == 2
    assert route.call_count == 2
    assert sleeps.waits == [3.0]


@respx.mock
async def test_a_retry_after_longer_than_one_request_may_wait_ends_the_retries(
    client: CalcomClient, sleeps: RecordedSleeps
) -> None:
    route = respx.get(f"{BASE}/v2/slots").respond(429, headers={"Retry-After": "120"})

    with pytest.raises(AvailabilityProviderError, match="rate limited") as raised:
        await client.slot_starts(77, WINDOW, "UTC")
    assert raised.value.retryable
    assert route.call_count == 1
    assert sleeps.waits == []


@respx.mock
async def test_5xx_and_connection_errors_are_retried_with_growing_backoff(
    client: CalcomClient, sleeps: RecordedSleeps
) -> None:
    route = respx.get(f"{BASE}/v2/slots")
    route.side_effect = [httpx.Response(503), httpx.ConnectError("refused"), httpx.Response(500)]

    with pytest.raises(AvailabilityProviderError, match=r"Cal\.com is not answering: HTTP 500") as raised:
        await client.slot_starts(77, WINDOW, "UTC")
    assert raised.value.retryable
    assert route.call_count == 3
    first, second = sleeps.waits
    # exponential from 0.01 s, each with up to 0.01 s of jitter
    assert 0.01 <= first <= 0.02
    assert 0.02 <= second <= 0.03


@pytest.mark.parametrize("status", [400, 404, 422])
@respx.mock
async def test_4xx_is_never_retried(client: CalcomClient, sleeps: RecordedSleeps, status: int) -> None:
    route = respx.get(f"{BASE}/v2/slots").respond(
        status, json={"status": "error", "error": {"code": "X", "message": "nope"}}
    )

    with pytest.raises(AvailabilityProviderError, match=f"HTTP {status}") as raised:
        await client.slot_starts(77, WINDOW, "UTC")
    assert not raised.value.retryable
    assert route.call_count == 1
    assert sleeps.waits == []


@pytest.mark.parametrize("status", [401, 403])
@respx.mock
async def test_a_refused_key_says_what_to_check(client: CalcomClient, status: int) -> None:
    route = respx.get(f"{BASE}/v2/slots").respond(status, json={"status": "error", "error": {}})

    with pytest.raises(AvailabilityProviderError, match="check CALCOM_API_KEY"):
        await client.slot_starts(77, WINDOW, "UTC")
    assert route.call_count == 1


@respx.mock
async def test_garbled_json_is_retried_then_reported(client: CalcomClient) -> None:
    route = respx.get(f"{BASE}/v2/slots").respond(200, content=b'{"status": "succ')

    with pytest.raises(AvailabilityProviderError, match="not valid JSON"):
        await client.slot_starts(77, WINDOW, "UTC")
    assert route.call_count == 3


@respx.mock
async def test_create_booking_sends_the_attendee_and_our_id(client: CalcomClient) -> None:
    route = respx.post(f"{BASE}/v2/bookings").respond(201, json={"status": "success", "data": {"uid": "u1"}})
    attendee = CalcomAttendee("Ann Client", "ann@example.com", "Europe/Paris", "+33612345678")

    uid = await client.create_booking(77, datetime(2030, 1, 7, 9, tzinfo=UTC), attendee, {"bookingId": "bk1"})

    assert uid == "u1"
    request = route.calls.last.request
    assert request.headers["cal-api-version"] == "2024-08-13"
    assert request.read() == (
        b'{"start":"2030-01-07T09:00:00Z","eventTypeId":77,"attendee":{"name":"Ann Client",'
        b'"email":"ann@example.com","timeZone":"Europe/Paris","phoneNumber":"+33612345678"},'
        b'"metadata":{"bookingId":"bk1"}}'
    )


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (409, "reserved by someone else"),
        (400, "User either already has booking at this time or is not available"),
    ],
)
@respx.mock
async def test_a_taken_slot_is_told_apart_from_other_refusals(
    client: CalcomClient, status: int, message: str
) -> None:
    respx.post(f"{BASE}/v2/bookings").respond(status, json={"status": "error", "error": {"message": message}})
    attendee = CalcomAttendee("Ann", "ann@example.com", "UTC")

    with pytest.raises(CalcomSlotTaken):
        await client.create_booking(77, datetime(2030, 1, 7, 9, tzinfo=UTC), attendee, {})


@respx.mock
async def test_refusal_messages_keep_contact_details_out(client: CalcomClient) -> None:
    respx.post(f"{BASE}/v2/bookings").respond(
        400, json={"status": "error", "error": {"message": "ann@example.com / +33 6 12 34 56 78 is invalid"}}
    )
    attendee = CalcomAttendee("Ann", "ann@example.com", "UTC")

    with pytest.raises(AvailabilityProviderError) as raised:
        await client.create_booking(
            77, datetime(2030, 1, 7, 9, tzinfo=UTC) + timedelta(hours=1), attendee, {}
        )
    assert "ann@example.com" not in str(raised.value)
    assert "12 34" not in str(raised.value)
