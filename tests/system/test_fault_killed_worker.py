"""A worker killed between placing a hold and opening the checkout (Stripe stalls meanwhile): the
client loses its answer, the hold keeps the slot until it lapses, `booking payments reconcile` then
releases it, the history tells all of it, and the slot can be booked again."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from tests.system import invariants
from tests.system.service import StripeConfig, run_cli, service_env, serving
from tests.system.stripe_control import ControlledFakeStripe
from tests.system.torture_driver import AGE_HOLD

pytestmark = [pytest.mark.system, pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(120)]

PRACTITIONER = "jane-doe"
STALL_SECONDS = 8.0  # long enough to find and kill the worker while it waits for Stripe
POLL_ATTEMPTS = 100  # x 0.05 s


def _booking_body(start: str, who: str) -> dict[str, str]:
    return {
        "practitioner_id": PRACTITIONER,
        "start": start,
        "name": f"Client {who}",
        "email": f"{who}@example.com",
        "phone": "+49 30 1234567",
    }


def _offered(base_url: str) -> list[str]:
    answer = httpx.get(f"{base_url}/api/practitioners/{PRACTITIONER}/availability")
    return [slot["start"] for slot in answer.json()["slots"]]


def _bookings(database_url: str) -> list[tuple[str, str, str | None]]:
    with psycopg.connect(database_url) as connection:
        query = "SELECT id, status, checkout_session_id FROM bookings ORDER BY created_at"
        return [(str(a), str(b), c) for a, b, c in connection.execute(query)]


def test_worker_killed_between_hold_and_checkout(
    database_url: str, fake_stripe: ControlledFakeStripe, stripe: StripeConfig, tmp_path: Path
) -> None:
    env = service_env(database_url, stripe, tmp_path)
    fake_stripe.hang_seconds = STALL_SECONDS
    with serving(env, tmp_path / "server.log") as service:
        start = _offered(service.base_url)[0]
        fake_stripe.hang_next()
        answers: list[BaseException | httpx.Response] = []

        def book() -> None:
            try:
                body = _booking_body(start, "killed")
                answers.append(httpx.post(f"{service.base_url}/api/bookings", json=body, timeout=30))
            except httpx.TransportError as error:
                answers.append(error)

        client = threading.Thread(target=book)
        client.start()
        victim = None
        for _ in range(POLL_ATTEMPTS):  # the hold is in the database and the worker waits for Stripe
            if fake_stripe.requests and _bookings(database_url):
                victim = service.worker_connected_to(urlsplit(stripe.api_base).port or 0)
                if victim:
                    break
            time.sleep(0.05)
        assert victim is not None, "no worker was found waiting for Stripe"
        os.kill(victim, signal.SIGKILL)
        client.join(timeout=30)

        assert len(answers) == 1 and isinstance(answers[0], httpx.TransportError), answers
        [(booking_id, status, session_id)] = _bookings(database_url)
        assert (status, session_id) == ("pending_payment", None)  # held, checkout never recorded
        assert start not in _offered(service.base_url)  # the hold keeps the slot until it lapses

        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(AGE_HOLD, (booking_id,))  # its 30 minutes pass
        report = run_cli(["payments", "reconcile"], env)
        assert "released: 1" in report, report

        assert start in _offered(service.base_url)  # the supervisor replaced the worker; slot free
        rebooked = httpx.post(f"{service.base_url}/api/bookings", json=_booking_body(start, "next"))
        assert rebooked.status_code == 201, rebooked.text
        assert victim not in service.worker_pids()

    assert [status for _, status, _ in _bookings(database_url)] == ["expired", "pending_payment"]
    assert invariants.history_gaps(database_url) == []
    assert invariants.overlapping_live_bookings(database_url) == []
