"""Torture: four client processes drive `booking serve --workers 2` on PostgreSQL with random booking
stories, duplicated and reordered webhooks, lapsing holds, late payments and cancellations, while the
workers' housekeeping and `booking payments reconcile` settle holds. Then the database is audited."""

from __future__ import annotations

import multiprocessing
import os
import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.system import invariants
from tests.system.service import StripeConfig, run_cli, service_env, serving
from tests.system.stripe_control import ControlledFakeStripe
from tests.system.torture_driver import DriverPlan, DriverReport, drive

pytestmark = [pytest.mark.system, pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(240)]

DRIVERS = 4
STORIES_PER_DRIVER = 45
DRIVER_SECONDS = 60.0  # each driver stops early past this; the pool gets a little longer to finish
RECONCILE_ROUNDS = 3
PRACTITIONERS = ("jane-doe", "sam-lee")
DAYS_AHEAD = 3  # well past the 24 hours of full-refund notice, so every cancellation refunds in full


def _hot_slots(base_url: str) -> list[tuple[str, str]]:
    """The first slots of each practitioner a few days ahead: what everyone will fight over."""
    first = (date.today() + timedelta(days=DAYS_AHEAD)).isoformat()
    slots = []
    for practitioner in PRACTITIONERS:
        answer = httpx.get(
            f"{base_url}/api/practitioners/{practitioner}/availability", params={"start": first}
        )
        answer.raise_for_status()
        slots += [(practitioner, slot["start"]) for slot in answer.json()["slots"][:8]]
    assert slots, "no slots on offer to fight over"
    return slots


def _deliver_refund_events(fake: ControlledFakeStripe, base_url: str, rng: random.Random) -> None:
    """Stripe's refund events, which nobody delivered yet: reordered and duplicated, all harmless."""
    event_ids = fake.event_ids("refund.created") + fake.event_ids("charge.refunded")
    webhooks = [fake.webhook(event_id) for event_id in event_ids for _ in range(2)]
    rng.shuffle(webhooks)
    for webhook in webhooks:
        answer = httpx.post(
            f"{base_url}/api/webhooks/stripe", content=webhook.payload, headers=webhook.headers
        )
        assert answer.status_code == 200, answer.text


def test_torture(
    database_url: str, fake_stripe: ControlledFakeStripe, stripe: StripeConfig, tmp_path: Path
) -> None:
    seed = int(os.environ.get("TORTURE_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    env = service_env(database_url, stripe, tmp_path, HOUSEKEEPING_INTERVAL_SECONDS="1")
    with serving(env, tmp_path / "server.log") as service:
        plans = [
            DriverPlan(
                seed=seed + number,
                number=number,
                service_url=service.base_url,
                stripe_url=stripe.api_base,
                database_url=database_url,
                hot_slots=_hot_slots(service.base_url),
                stories=STORIES_PER_DRIVER,
                seconds=DRIVER_SECONDS,
            )
            for number in range(DRIVERS)
        ]
        with multiprocessing.get_context("spawn").Pool(DRIVERS) as pool:
            running = pool.map_async(drive, plans)
            for _ in range(RECONCILE_ROUNDS):  # a separate process settling holds amid the load
                run_cli(["payments", "reconcile"], env)
                if running.ready():
                    break
            reports: list[DriverReport] = running.get(timeout=DRIVER_SECONDS + 60)
        _deliver_refund_events(fake_stripe, service.base_url, rng)
        run_cli(["payments", "reconcile"], env)
        log, unexpected = service.log(), service.unexpected_errors()

    told = sum((report.stories for report in reports), Counter())
    statuses = sum((report.statuses for report in reports), Counter())
    surprises = [surprise for report in reports for surprise in report.surprises]
    counts = invariants.status_counts(database_url)
    print(f"seed {seed}\nstories {dict(told)}\nstatuses {dict(statuses)}\nbookings {counts}")

    assert surprises == [], f"seed {seed}"
    assert invariants.overlapping_live_bookings(database_url) == []
    assert invariants.paid_sessions_unaccounted(database_url, fake_stripe.sessions, fake_stripe.refunds) == []
    assert invariants.history_gaps(database_url) == []
    # the run exercised what it claims to: conflicts, payments, releases, cancellations, refunds
    assert statuses["book 201"] and statuses["book 409"] and statuses["cancel 403"]
    assert {"confirmed", "expired", "cancelled", "refunded"} <= counts.keys(), counts
    assert "@example.com" not in log  # no client e-mail address in any log line
    assert unexpected == []
    assert "Traceback" not in log, log[-3000:]  # nothing failed, not even in the background
