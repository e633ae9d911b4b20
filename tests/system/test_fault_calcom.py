"""Cal.com down, slow or garbled while clients look for slots: the listing keeps answering, from the
last good Cal.com answer (`calcom_stale`) or the weekly schedule (`schedule_fallback`); a booking,
which must re-check the slot, is refused with 503 rather than risk a double booking."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import attrs
import httpx
import pytest

from booking_adapters.testing.fake_calcom import (
    FAKE_API_KEY,
    FOREVER,
    FakeCalcom,
    FakeCalcomServer,
    FakeEventType,
    serve_fake_calcom,
)
from booking_web.demo import DEMO_PRACTITIONERS
from tests.system.postgres import require_shared_server, seeded_database
from tests.system.service import RunningService, StripeConfig, service_env, serving

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.timeout(120)]

EVENT_TYPE = 4242
TTL_SECONDS = 0.5  # cached answers go stale quickly, so each check below really asks Cal.com
CALCOM_PRACTITIONER = attrs.evolve(DEMO_PRACTITIONERS[0], id="cal-user", calcom_event_type_id=EVENT_TYPE)
DEGRADED = {"calcom_stale", "schedule_fallback"}


@pytest.fixture
def calcom() -> Iterator[FakeCalcomServer]:
    fake = FakeCalcom()
    offer, schedule = CALCOM_PRACTITIONER.offer, CALCOM_PRACTITIONER.schedule
    fake.add_event_type(FakeEventType(EVENT_TYPE, offer.session_length, schedule=schedule, step=offer.step))
    with serve_fake_calcom(fake) as server:
        yield server


@pytest.fixture
def service(calcom: FakeCalcomServer, stripe: StripeConfig, tmp_path: Path) -> Iterator[RunningService]:
    with seeded_database(require_shared_server(), [CALCOM_PRACTITIONER]) as database_url:
        env = service_env(
            database_url,
            stripe,
            tmp_path,
            CALCOM_API_KEY=FAKE_API_KEY,
            CALCOM_API_BASE=calcom.url,
            CALCOM_CACHE_TTL_SECONDS=str(TTL_SECONDS),
            CALCOM_CONNECT_TIMEOUT_SECONDS="0.5",
            CALCOM_READ_TIMEOUT_SECONDS="0.5",
        )
        # one worker: the last good answer is cached per process, so the stale path is predictable
        with serving(env, tmp_path / "server.log", workers=1) as running:
            yield running


def _week(service: RunningService, days_ahead: int) -> httpx.Response:
    first = date.today() + timedelta(days=days_ahead)
    params = {"start": first.isoformat(), "end": (first + timedelta(days=6)).isoformat()}
    return httpx.get(
        f"{service.base_url}/api/practitioners/{CALCOM_PRACTITIONER.id}/availability",
        params=params,
        timeout=30,
    )


def _degraded_listing(service: RunningService, days_ahead: int) -> tuple[str, list[str]]:
    time.sleep(TTL_SECONDS * 2)  # the cached answer is past its TTL: the listing must ask again
    answer = _week(service, days_ahead)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return body["source"], [slot["start"] for slot in body["slots"]]


def test_calcom_down_slow_or_garbled_falls_back(service: RunningService, calcom: FakeCalcomServer) -> None:
    healthy = _week(service, 3).json()
    assert healthy["source"] == "calcom" and healthy["slots"]
    good = [slot["start"] for slot in healthy["slots"]]

    calcom.down()
    assert _degraded_listing(service, 3) == ("calcom_stale", good)  # the last good answer
    source, slots = _degraded_listing(service, 20)  # a week nobody asked about before
    assert source == "schedule_fallback" and slots
    body = {
        "practitioner_id": CALCOM_PRACTITIONER.id,
        "start": good[0],
        "name": "Calendar Client",
        "email": "calendar-client@example.com",
        "phone": "+49 30 1234567",
    }
    refused = httpx.post(f"{service.base_url}/api/bookings", json=body, timeout=30)
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "provider_unavailable"
    calcom.up()

    calcom.fake.delay_seconds = 2.0  # slower than the read timeout
    assert _degraded_listing(service, 3) == ("calcom_stale", good)
    calcom.fake.delay_seconds = 0.0

    calcom.fake.malformed_next = FOREVER
    assert _degraded_listing(service, 3) == ("calcom_stale", good)
    calcom.fake.malformed_next = 0

    assert _degraded_listing(service, 3)[0] == "calcom"  # recovered, no restart
    assert service.process.poll() is None
    booked = httpx.post(f"{service.base_url}/api/bookings", json=body, timeout=30)
    assert booked.status_code == 201, booked.text
