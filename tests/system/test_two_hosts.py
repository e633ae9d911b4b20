"""Two hosts: two separate `booking serve` instances (ports of their own, one worker each, nothing
shared but PostgreSQL, Redis and the secrets) behave as one service. Exactly one booking per slot
across both under concurrent requests; a booking on one disappears from the other's cached
availability through the change feed; the rate limit is one limit across both (Redis); each
e-mail and webhook of the outbox, and each reminder, goes out once, however the two relays run."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta

import httpx
import psycopg
import pytest
from attrs import evolve, frozen

from booking_adapters.testing.fake_stripe import running
from booking_web.demo import DEMO_PRACTITIONERS
from tests.redis_server import REDIS_URL, scratch_prefix
from tests.system import invariants
from tests.system.postgres import require_shared_server, seeded_database
from tests.system.service import RunningService, StripeConfig, run_cli, service_env, serving
from tests.system.stripe_control import ControlledFakeStripe, control
from tests.system.test_reminders import OFFSET, RITA
from tests.system.torture_driver import WEBHOOK_PATH
from tests.unit.notifications.servers import SmtpSink, WebhookReceiver

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.timeout(300)]

RATE_LIMIT = 6  # booking attempts per client address and minute, across both instances
RACERS = 16
PAID_BOOKINGS = 6
WEBHOOK_SECRET = "whsec_two_hosts_" + "w" * 32
METRICS_TOKEN = "two-hosts-metrics-" + "m" * 32
METRICS = {"Authorization": f"Bearer {METRICS_TOKEN}"}
POLL_SECONDS = 0.05
POLL_ATTEMPTS = 400  # x POLL_SECONDS: 20 s at most for anything another process does
# Free one-minute sessions with a reminder OFFSET (3 minutes) before: one each, all due at once
REMINDED = tuple(evolve(RITA, id=f"rita-{n}", email=f"rita{n}@example.org") for n in range(4))
REMINDER_LEAD = timedelta(seconds=20)  # the bookings are made before their reminders' window opens


@frozen
class TwoHosts:
    one: RunningService
    other: RunningService
    env: dict[str, str]
    database_url: str
    stripe: StripeConfig
    smtp: SmtpSink
    receiver: WebhookReceiver

    @property
    def both(self) -> tuple[RunningService, RunningService]:
        return self.one, self.other


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoHosts]:
    """Started once for the module's tests (each works on days, practitioners and client addresses
    of its own): a scratch database, the fake Stripe, an SMTP sink, a webhook subscriber, a Redis key
    prefix of this run's, and the two instances."""
    tmp_path = tmp_path_factory.mktemp("two-hosts")
    fake_stripe = ControlledFakeStripe()
    smtp = SmtpSink()
    receiver = WebhookReceiver(WEBHOOK_SECRET.encode(), time.time)
    with ExitStack() as stack:
        practitioners = (*DEMO_PRACTITIONERS, *REMINDED)
        database_url = stack.enter_context(seeded_database(require_shared_server(), practitioners))
        prefix = stack.enter_context(scratch_prefix())
        stripe = StripeConfig(stack.enter_context(running(fake_stripe)), fake_stripe.webhook_secret)
        smtp.start()
        stack.callback(smtp.stop)
        receiver.start()
        stack.callback(receiver.stop)
        env = service_env(
            database_url,
            stripe,
            tmp_path,
            REDIS_URL=REDIS_URL,
            REDIS_KEY_PREFIX=prefix,  # this run's keys only
            BOOKING_RATE_LIMIT_PER_MINUTE=str(RATE_LIMIT),
            # every client below says who it is through X-Forwarded-For, as behind a proxy
            FORWARDED_ALLOW_IPS="127.0.0.1",
            SMTP_URL=smtp.url,
            WEBHOOK_URLS=receiver.url,
            WEBHOOK_SECRET=WEBHOOK_SECRET,
            OUTBOX_INTERVAL_SECONDS="0.5",  # both relays look often: their claims meet
            METRICS_TOKEN=METRICS_TOKEN,
        )
        one, other = (
            stack.enter_context(
                serving(env | {"BOOKING_DATA_DIR": str(tmp_path / name)}, tmp_path / f"{name}.log", 1)
            )
            for name in ("one", "other")
        )
        yield TwoHosts(one, other, env, database_url, stripe, smtp, receiver)
        for service in (one, other):
            assert service.unexpected_errors() == []
        assert invariants.overlapping_live_bookings(database_url) == []
        assert invariants.history_gaps(database_url) == []


def _body(start: str, who: str, practitioner: str = "sam-lee") -> dict[str, str]:
    return {
        "practitioner_id": practitioner,
        "start": start,
        "name": f"Client {who}",
        "email": f"{who}@example.com",
        "phone": "+1 415 555 2671",
    }


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def _slots(service: RunningService, practitioner: str, first: date, days: int = 7) -> list[str]:
    params = {"start": first.isoformat(), "end": (first + timedelta(days=days - 1)).isoformat()}
    answer = httpx.get(f"{service.base_url}/api/practitioners/{practitioner}/availability", params=params)
    assert answer.status_code == 200, answer.text
    return [slot["start"] for slot in answer.json()["slots"]]


def _eventually(condition: Callable[[], bool]) -> None:
    for _ in range(POLL_ATTEMPTS):
        if condition():
            return
        time.sleep(POLL_SECONDS)
    raise AssertionError("the condition did not come true in time")


def test_racing_clients_on_both_hosts_get_exactly_one_booking_per_slot(hosts: TwoHosts) -> None:
    first = date.today() + timedelta(days=7)
    starts = _slots(hosts.one, "sam-lee", first)[:3]

    def attempt(number: int) -> int:
        service = hosts.both[number % 2]
        start = starts[number % len(starts)]
        # each racer its own address (its own rate limit) and a fresh connection
        answer = httpx.post(
            f"{service.base_url}/api/bookings",
            json=_body(start, f"racer{number}"),
            headers=_from(f"198.51.100.{number + 1}"),
            timeout=30,
        )
        return answer.status_code

    with ThreadPoolExecutor(max_workers=RACERS * len(starts)) as pool:
        statuses = list(pool.map(attempt, range(RACERS * len(starts))))
    assert statuses.count(201) == len(starts), statuses
    assert statuses.count(409) == len(statuses) - len(starts), statuses
    for service in hosts.both:
        assert not set(starts) & set(_slots(service, "sam-lee", first))


def test_a_booking_on_one_host_leaves_the_others_cached_availability_at_once(hosts: TwoHosts) -> None:
    first = date.today() + timedelta(days=8)
    before = _slots(hosts.other, "jane-doe", first)
    assert _slots(hosts.other, "jane-doe", first) == before  # the second answer from its cache
    hits = 'booking_availability_cache_total{result="hit"} 1.0'
    assert hits in httpx.get(f"{hosts.other.base_url}/metrics", headers=METRICS).text

    held = httpx.post(
        f"{hosts.one.base_url}/api/bookings",
        json=_body(before[0], "cached", "jane-doe"),
        headers=_from("198.51.100.200"),
    )
    assert held.status_code == 201, held.text
    # heard through PostgreSQL's LISTEN/NOTIFY: the cache keeps answers a minute, the poll 20 s at most
    _eventually(lambda: before[0] not in _slots(hosts.other, "jane-doe", first))
    assert _slots(hosts.other, "jane-doe", first) == before[1:]


def test_the_rate_limit_is_one_limit_across_both_hosts(hosts: TwoHosts) -> None:
    """RATE_LIMIT attempts from one address, spread over both instances, then the next on either is
    refused; another address is not. Each instance alone would have allowed RATE_LIMIT."""

    def attempt(service: RunningService, address: str) -> httpx.Response:
        # an empty body is refused after the limit is counted: cheap, and counts like any attempt
        return httpx.post(f"{service.base_url}/api/bookings", json={}, headers=_from(address))

    allowed = [attempt(hosts.both[n % 2], "203.0.113.7").status_code for n in range(RATE_LIMIT)]
    assert allowed == [422] * RATE_LIMIT
    for service in hosts.both:
        refused = attempt(service, "203.0.113.7")
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert attempt(hosts.other, "203.0.113.8").status_code == 422


def test_each_outbox_delivery_goes_out_once_from_two_relays(hosts: TwoHosts) -> None:
    """Bookings held and paid on alternating instances, each payment webhook delivered to both (as
    Stripe's retries may): one confirmation e-mail per client and one booking.confirmed webhook per
    booking, with both relays running every half second."""
    first = date.today() + timedelta(days=9)
    starts = _slots(hosts.one, "jane-doe", first)[:PAID_BOOKINGS]
    booked: list[str] = []
    with httpx.Client(base_url=hosts.stripe.api_base) as stripe_control:
        for number, start in enumerate(starts):
            service = hosts.both[number % 2]
            held = httpx.post(
                f"{service.base_url}/api/bookings",
                json=_body(start, f"paid{number}", "jane-doe"),
                headers=_from(f"192.0.2.{number + 1}"),
            )
            assert held.status_code == 201, held.text
            webhook = control(stripe_control, held.json()["checkout_session_id"], "complete")
            assert webhook is not None
            for receiving in hosts.both:
                answer = httpx.post(
                    f"{receiving.base_url}{WEBHOOK_PATH}", content=webhook.payload, headers=webhook.headers
                )
                assert answer.status_code == 200, answer.text
            booked.append(held.json()["id"])

    _eventually(lambda: set(booked) <= {event["data"]["booking_id"] for event in hosts.receiver.events})
    clients = [f"paid{number}@example.com" for number in range(PAID_BOOKINGS)]
    _eventually(lambda: all(hosts.smtp.to(client) for client in clients))
    _eventually(lambda: _undelivered(hosts.database_url) == 0)
    run_cli(["outbox", "deliver"], hosts.env)  # a third relay: anything left would go out now

    sent = Counter((event["type"], event["data"]["booking_id"]) for event in hosts.receiver.events)
    assert max(sent.values()) == 1, sent  # no event of any test's bookings twice
    assert {booking for kind, booking in sent if kind == "booking.confirmed"} >= set(booked), sent
    for client in clients:
        [mail] = hosts.smtp.to(client)
        assert str(mail["Subject"]).startswith("Confirmed:")
    assert hosts.receiver.rejected == 0


def _undelivered(database_url: str) -> int:
    """Deliveries claimed and not yet recorded as delivered (a relay holds them, or will retry)."""
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM outbox_deliveries WHERE delivered_at IS NULL"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_each_reminder_goes_out_once_from_two_relays(hosts: TwoHosts) -> None:
    """Four sessions whose reminders fall due at the same instant, booked on alternating instances:
    each client gets one reminder, though both relays look for due reminders."""
    lead = datetime.now(UTC) + REMINDER_LEAD
    due = datetime.fromtimestamp(math.ceil(lead.timestamp() / 60) * 60, UTC)  # a whole minute
    start = due + OFFSET
    clients = []
    for number, practitioner in enumerate(REMINDED):
        service = hosts.both[number % 2]
        client = f"reminded{number}"
        body = _body(start.isoformat(), client, practitioner.id) | {"phone": f"+49 30 555000{number}"}
        held = httpx.post(
            f"{service.base_url}/api/bookings", json=body, headers=_from(f"192.0.2.{100 + number}")
        )
        assert held.status_code == 201, held.text
        assert held.json()["status"] == "confirmed"  # free: no payment
        clients.append(f"{client}@example.com")

    def reminded(client: str) -> int:
        return sum(str(mail["Subject"]).startswith("Reminder:") for mail in hosts.smtp.to(client))

    for _ in range(POLL_ATTEMPTS * 5):  # bounded: by the sessions' start no reminder can come any more
        if all(reminded(client) for client in clients) or datetime.now(UTC) >= start:
            break
        time.sleep(POLL_SECONDS * 4)
    assert [reminded(client) for client in clients] == [1] * len(REMINDED)
    with psycopg.connect(hosts.database_url) as connection:
        rows = connection.execute("SELECT count(*), count(sent_at) FROM reminder_deliveries").fetchone()
    assert rows == (len(REMINDED), len(REMINDED))  # one claim each, sent
