"""PostgreSQL stopped and started under load: a private cluster of the test's own (never the shared
server). During the outage requests get 503 in the error shape; afterwards the same service process
recovers by itself; the audit finds nothing half-written."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.serving import free_port
from tests.system import invariants
from tests.system.load import Answer, background_load
from tests.system.postgres import private_cluster, seeded_database
from tests.system.service import StripeConfig, service_env, serving

pytestmark = [pytest.mark.system, pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(180)]

LOAD_SECONDS = 1.5  # of each phase: before, during and after the outage
RECOVERY_ATTEMPTS = 100  # x 0.1 s
HEALTHY = {200, 201, 409}


def _slots(base_url: str) -> list[tuple[str, str]]:
    answer = httpx.get(f"{base_url}/api/practitioners/jane-doe/availability")
    return [("jane-doe", slot["start"]) for slot in answer.json()["slots"][:6]]


def _recovered(base_url: str) -> float:
    """When ten requests in a row (fresh connections, so both workers) were answered again."""
    streak = 0
    for _ in range(RECOVERY_ATTEMPTS):
        ok = httpx.get(f"{base_url}/api/practitioners/jane-doe/availability").status_code == 200
        streak = streak + 1 if ok else 0
        if streak == 10:
            return time.monotonic()
        time.sleep(0 if ok else 0.1)
    pytest.fail("the service did not recover after PostgreSQL came back")


def _book_first_free(base_url: str, practitioner: str) -> httpx.Response:
    slots = httpx.get(f"{base_url}/api/practitioners/{practitioner}/availability").json()["slots"]
    body = {
        "practitioner_id": practitioner,
        "start": slots[0]["start"],
        "name": "After Restart",
        "email": "after-restart@example.com",
        "phone": "+1 415 555 2671",
    }
    return httpx.post(f"{base_url}/api/bookings", json=body)


def _is_error_shape(answer: Answer) -> bool:
    return '"error":{"code":"' in answer.body.replace(" ", "") and "Traceback" not in answer.body


def test_postgres_restart_under_load(stripe: StripeConfig, tmp_path: Path) -> None:
    with private_cluster(free_port()) as cluster, seeded_database(cluster.admin_url) as database_url:
        env = service_env(database_url, stripe, tmp_path)
        with serving(env, tmp_path / "server.log") as service:
            with background_load(service.base_url, _slots(service.base_url)) as load:
                time.sleep(LOAD_SECONDS)
                stopping = time.monotonic()
                cluster.stop("fast")  # connections are cut mid-work, new ones refused
                down = time.monotonic()
                time.sleep(LOAD_SECONDS)
                restarting = time.monotonic()
                readiness = httpx.get(f"{service.base_url}/readyz")
                cluster.start()
                recovered = _recovered(service.base_url)
                time.sleep(LOAD_SECONDS)
            # Background rounds (outbox, housekeeping) may log the outage with its trace; requests may not.
            unexpected = service.unexpected_errors()
            after = _book_first_free(service.base_url, "sam-lee")
            assert service.process.poll() is None  # the same service, never restarted

        outage = load.between(down, restarting)
        assert outage, "no request fell into the outage"
        assert {a.status for a in outage} == {503}, {(a.kind, a.status, a.body[:200]) for a in outage}
        assert all(_is_error_shape(a) for a in outage), outage[:3]
        assert all(a.status != 500 for a in load.answers), [a for a in load.answers if a.status == 500][:3]
        assert {a.status for a in load.between(0, stopping)} <= HEALTHY
        assert {a.status for a in load.answers if a.sent > recovered} <= HEALTHY
        assert load.between(recovered, float("inf")), "no load after recovery"
        assert readiness.status_code == 503
        assert after.status_code == 201, after.text
        assert unexpected == []
        assert invariants.overlapping_live_bookings(database_url) == []
        assert invariants.history_gaps(database_url) == []
