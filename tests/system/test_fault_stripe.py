"""Stripe failing while a client books: 500s and 429s answer the client with a clear 503 and release
the hold at once (the slot is on offer again); a stall shorter than the client timeout only delays."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.serving import free_port
from tests.system.service import RunningService, StripeConfig, service_env, serving
from tests.system.stripe_control import ControlledFakeStripe

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.timeout(120)]

PRACTITIONER = "sam-lee"
HANG_SECONDS = 2.0  # below the gateway's 30 s timeout: see the report on timeouts
# The Stripe SDK retries a 500 twice (three attempts); a 429 without Stripe-Should-Retry not at all.
ATTEMPTS = {500: 3, 429: 1}


@pytest.fixture
def service(database_url: str, stripe: StripeConfig, tmp_path: Path) -> Iterator[RunningService]:
    with serving(service_env(database_url, stripe, tmp_path), tmp_path / "server.log", workers=1) as running:
        yield running


def _first_free(service: RunningService) -> str:
    slots = httpx.get(f"{service.base_url}/api/practitioners/{PRACTITIONER}/availability").json()["slots"]
    return str(slots[0]["start"])


def _book(service: RunningService, start: str) -> httpx.Response:
    body = {
        "practitioner_id": PRACTITIONER,
        "start": start,
        "name": "Fault Client",
        "email": "fault-client@example.com",
        "phone": "+1 415 555 2671",
    }
    return httpx.post(f"{service.base_url}/api/bookings", json=body, timeout=60)


def _statuses(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as connection:
        return [row[0] for row in connection.execute("SELECT status FROM bookings ORDER BY created_at")]


@pytest.mark.parametrize("status", [500, 429])
def test_stripe_errors_answer_503_and_free_the_slot(
    service: RunningService, fake_stripe: ControlledFakeStripe, database_url: str, status: int
) -> None:
    start = _first_free(service)
    fake_stripe.fail_next(status, times=ATTEMPTS[status])
    refused = _book(service, start)

    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"]
    error = refused.json()["error"]
    assert error["code"] == "provider_unavailable" and error["message"]
    assert "Traceback" not in refused.text and "stripe" not in error["message"].lower()
    assert _first_free(service) == start  # on offer again right away: no hold stuck
    assert _statuses(database_url) == ["expired"]
    assert fake_stripe.sessions == {}
    assert len(fake_stripe.requests) == ATTEMPTS[status]  # every fault was used: none waits for the retry

    retried = _book(service, start)  # Stripe is back: the client's retry gets the same slot
    assert retried.status_code == 201, retried.text
    assert _statuses(database_url) == ["expired", "pending_payment"]


def test_stalled_stripe_delays_but_holds_exactly_one_slot(
    service: RunningService, fake_stripe: ControlledFakeStripe, database_url: str
) -> None:
    fake_stripe.hang_seconds = HANG_SECONDS
    start = _first_free(service)
    fake_stripe.hang_next()
    booked = _book(service, start)

    assert booked.status_code == 201, booked.text
    assert booked.json()["checkout_session_id"] in fake_stripe.sessions
    assert start not in [
        slot["start"]
        for slot in httpx.get(f"{service.base_url}/api/practitioners/{PRACTITIONER}/availability").json()[
            "slots"
        ]
    ]
    assert _statuses(database_url) == ["pending_payment"]


def test_unreachable_stripe_answers_503_and_frees_the_slot(database_url: str, tmp_path: Path) -> None:
    nowhere = StripeConfig(f"http://127.0.0.1:{free_port()}", "whsec_fake_nowhere")  # nothing listens
    with serving(service_env(database_url, nowhere, tmp_path), tmp_path / "server.log", workers=1) as service:
        start = _first_free(service)
        refused = _book(service, start)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "provider_unavailable"
        assert _first_free(service) == start
    assert _statuses(database_url) == ["expired"]
