"""One torture client process: random booking stories against the real service over HTTP.

Each story is one client's doing (book, pay, let expire, cancel, pay late ...). The Stripe webhooks a
story causes go into a mailbag that is delivered later, in random order, some of them twice, so the
service sees duplicates and reorderings across bookings and processes. Anything but an expected
status is recorded as a surprise; the parent process asserts there were none.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import psycopg
from attrs import define, field, frozen

from booking_adapters.stripe.local import SignedWebhook
from tests.system.stripe_control import control

HTTP_TIMEOUT = 30.0
WEBHOOK_PATH = "/api/webhooks/stripe"
Slot = tuple[str, str]  # (practitioner id, ISO start)

# Ageing a hold stands in for its time running out: the server's clock cannot be moved, so the hold's
# expiry is moved instead (with the version bumped, so a concurrent change reloads it).
AGE_HOLD = (
    "UPDATE bookings SET hold_expires_at = now() - interval '1 second', version = version + 1 "
    "WHERE id = %s AND status = 'pending_payment'"
)


@frozen
class DriverPlan:
    seed: int
    number: int
    service_url: str
    stripe_url: str
    database_url: str
    hot_slots: list[Slot]
    stories: int
    seconds: float


@frozen
class DriverReport:
    number: int
    stories: Counter[str]
    statuses: Counter[str]
    surprises: list[str]


@define
class Driver:
    plan: DriverPlan
    api: httpx.Client
    stripe: httpx.Client
    database: psycopg.Connection[Any]
    rng: random.Random
    mailbag: list[SignedWebhook] = field(factory=list)
    delivered: list[SignedWebhook] = field(factory=list)
    statuses: Counter[str] = field(factory=Counter)
    surprises: list[str] = field(factory=list)
    serial: int = 0

    # -- requests, each checked against what may come back ----------------------------------------

    def expect(self, what: str, response: httpx.Response, allowed: set[int]) -> httpx.Response:
        self.statuses[f"{what} {response.status_code}"] += 1
        if response.status_code not in allowed:
            self.surprises.append(f"{what}: {response.status_code} {response.text[:300]}")
        return response

    def book(self, slot: Slot, key: str | None = None) -> dict[str, Any] | None:
        self.serial += 1
        # a retry under one Idempotency-Key sends the very same body (a key is bound to it)
        client = key or f"p{self.plan.number}-{self.serial}"
        body = {
            "practitioner_id": slot[0],
            "start": slot[1],
            "name": f"Torture Client {client}",
            "email": f"torture-{client}@example.com",
            "phone": "+1 415 555 2671",
        }
        headers = {"Idempotency-Key": key} if key else {}
        answer = self.expect("book", self.api.post("/api/bookings", json=body, headers=headers), {201, 409})
        return answer.json() if answer.status_code == 201 else None

    def cancel(self, booking: dict[str, Any], token: str, allowed: set[int]) -> httpx.Response:
        path = f"/api/bookings/{booking['id']}/cancel"
        return self.expect("cancel", self.api.post(path, json={"cancel_token": token}), allowed)

    def at_stripe(self, booking: dict[str, Any], action: str) -> SignedWebhook | None:
        webhook = control(self.stripe, booking["checkout_session_id"], action)
        if webhook is not None:
            self.mailbag.append(webhook)
        return webhook

    def age_hold(self, booking: dict[str, Any]) -> None:
        self.database.execute(AGE_HOLD, (booking["id"],))

    def deliver(self, webhooks: list[SignedWebhook]) -> None:
        for webhook in webhooks:
            response = self.api.post(WEBHOOK_PATH, content=webhook.payload, headers=webhook.headers)
            self.expect("webhook", response, {200})
            self.delivered.append(webhook)

    def shuffle_deliveries(self, everything: bool = False) -> None:
        """Deliver part (or all) of the mailbag, reordered, some twice; sometimes an old one again."""
        if not self.mailbag:
            return
        count = len(self.mailbag) if everything else self.rng.randint(0, len(self.mailbag))
        self.rng.shuffle(self.mailbag)
        batch, self.mailbag = self.mailbag[:count], self.mailbag[count:]
        batch += [webhook for webhook in batch if self.rng.random() < 0.3]
        if self.delivered and self.rng.random() < 0.3:
            batch.append(self.rng.choice(self.delivered))
        self.rng.shuffle(batch)
        self.deliver(batch)

    def pick_slot(self) -> Slot:
        """Mostly one of the first few slots on offer right now (everyone wants those), else any."""
        practitioner, start = self.rng.choice(self.plan.hot_slots)
        if self.rng.random() < 0.3:
            return practitioner, start
        answer = self.expect(
            "availability",
            self.api.get(f"/api/practitioners/{practitioner}/availability", params={"start": start[:10]}),
            {200},
        )
        slots = answer.json().get("slots", []) if answer.status_code == 200 else []
        if not slots:
            return practitioner, start
        return practitioner, self.rng.choice(slots[:4])["start"]

    # -- the stories --------------------------------------------------------------------------------

    def pay(self) -> None:
        booking = self.book(self.pick_slot())
        if booking:
            self.at_stripe(booking, "complete")

    def pay_then_cancel(self) -> None:
        booking = self.book(self.pick_slot())
        if booking and (webhook := control(self.stripe, booking["checkout_session_id"], "complete")):
            self.deliver([webhook])
            self.cancel(booking, booking["cancel_token"], {200})  # days ahead: a full refund

    def cancel_pending(self) -> None:
        booking = self.book(self.pick_slot())
        if booking:
            self.cancel(booking, booking["cancel_token"], {200})

    def bad_tokens(self) -> None:
        booking = self.book(self.pick_slot())
        if booking:
            self.cancel(booking, "0" * 64, {403})
            self.cancel(booking | {"id": f"no-such-{self.serial}"}, booking["cancel_token"], {404})
            self.at_stripe(booking, "complete")

    def expire(self) -> None:
        booking = self.book(self.pick_slot())
        if booking:
            self.at_stripe(booking, "expire")

    def pay_async(self) -> None:
        booking = self.book(self.pick_slot())
        if booking and self.at_stripe(booking, "pay_later"):
            self.at_stripe(booking, "succeed_async")  # may be delivered before the completion

    def late_payment(self) -> None:
        """Paid at Stripe, the webhook late: the hold lapses, a rival may take the slot meanwhile."""
        slot = self.pick_slot()
        booking = self.book(slot)
        if not booking:
            return
        late = control(self.stripe, booking["checkout_session_id"], "complete")
        self.age_hold(booking)
        if self.rng.random() < 0.6 and (rival := self.book(slot)):
            self.at_stripe(rival, "complete")
        if late:
            self.deliver([late])

    def paid_after_cancelling(self) -> None:
        booking = self.book(self.pick_slot())
        if booking and (webhook := control(self.stripe, booking["checkout_session_id"], "pay_later")):
            self.deliver([webhook])
            self.cancel(booking, booking["cancel_token"], {200})
            self.at_stripe(booking, "succeed_async")  # the money arrives anyway: it goes back

    def abandon(self) -> None:
        booking = self.book(self.pick_slot())
        if booking and self.rng.random() < 0.5:
            self.age_hold(booking)  # housekeeping or `payments reconcile` releases it

    def idempotent_retry(self) -> None:
        """A retry with the same Idempotency-Key replays a created booking. After a refusal the key
        was not used up: the retry may find the slot freed meanwhile."""
        slot, key = self.pick_slot(), f"retry-{self.plan.number}-{self.serial}"
        first, second = self.book(slot, key), self.book(slot, key)
        if first and (second is None or second["id"] != first["id"]):
            self.surprises.append(f"idempotent retry of {first['id']} gave {second and second['id']}")
        if second:
            self.at_stripe(second, "complete")

    def off_grid(self) -> None:
        practitioner, start = self.rng.choice(self.plan.hot_slots)
        skewed = start[:14] + "07" + start[16:]  # minute 07: never on the slot grid
        self.book((practitioner, skewed))

    def browse(self) -> None:
        practitioner, start = self.rng.choice(self.plan.hot_slots)
        first = date.fromisoformat(start[:10])
        last = first + timedelta(days=self.rng.choice([0, 6, 27]))
        params = {"start": first.isoformat(), "end": last.isoformat()}
        path = f"/api/practitioners/{practitioner}/availability"
        self.expect("availability", self.api.get(path, params=params), {200})

    def stories(self) -> dict[str, Callable[[], None]]:
        return {
            "pay": self.pay,
            "pay_then_cancel": self.pay_then_cancel,
            "cancel_pending": self.cancel_pending,
            "bad_tokens": self.bad_tokens,
            "expire": self.expire,
            "pay_async": self.pay_async,
            "late_payment": self.late_payment,
            "paid_after_cancelling": self.paid_after_cancelling,
            "abandon": self.abandon,
            "idempotent_retry": self.idempotent_retry,
            "off_grid": self.off_grid,
            "browse": self.browse,
        }


def drive(plan: DriverPlan) -> DriverReport:
    """The process's entry point (spawned): bounded by a story count and a deadline."""
    rng = random.Random(plan.seed)
    fresh_connections = httpx.Limits(max_keepalive_connections=0)  # spread over the workers
    told: Counter[str] = Counter()
    with (
        httpx.Client(base_url=plan.service_url, timeout=HTTP_TIMEOUT, limits=fresh_connections) as api,
        httpx.Client(base_url=plan.stripe_url, timeout=HTTP_TIMEOUT) as stripe,
        psycopg.connect(plan.database_url, autocommit=True) as database,
    ):
        driver = Driver(plan, api, stripe, database, rng)
        stories = driver.stories()
        deadline = time.monotonic() + plan.seconds
        for _ in range(plan.stories):
            if time.monotonic() > deadline:
                break
            name = rng.choice(sorted(stories))
            stories[name]()
            told[name] += 1
            if rng.random() < 0.4:
                driver.shuffle_deliveries()
        driver.shuffle_deliveries(everything=True)  # every webhook arrives at least once in the end
        return DriverReport(plan.number, told, driver.statuses, driver.surprises)
