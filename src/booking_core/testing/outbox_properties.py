"""The Outbox as a property (see contracts.py for how to subclass a contract): any generated run of
events recorded, claims (of any size and lease), deliveries, failures (retried later or given up) and
passing time hands out exactly what a plain model of the port says: due items (neither delivered nor
given up, retry time reached, lease ended) oldest first up to the limit, with their attempts; and
`failures` lists the undelivered items that failed. Fixture: `store`, empty, both ports in one (as
for OutboxContract); every example uses a channel and a practitioner of its own."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from attrs import define, field, frozen
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from booking_core.ports import OutboxItem
from booking_core.testing.contracts import NOW, StoreWithOutbox, hold

_examples = itertools.count()


@frozen
class Record:
    """A booking change: one event enters the history."""


@frozen
class Claim:
    limit: int
    lease_seconds: int


@frozen
class Deliver:
    count: int  # of the last claim's items, from its start


@frozen
class Fail:
    index: int  # one of the last claim's items
    retry_seconds: int | None  # None: give up


@frozen
class Wait:
    seconds: int


Step = Record | Claim | Deliver | Fail | Wait

_claims = st.builds(Claim, st.integers(1, 4), st.sampled_from([30, 60, 120]))
_failures = st.builds(Fail, st.integers(0, 3), st.sampled_from([None, 0, 20, 90]))
runs = st.lists(
    # records, claims and failures twice as likely as the rest: retries need all three before them
    st.one_of(
        st.just(Record()),
        st.just(Record()),
        _claims,
        _claims,
        st.builds(Deliver, st.integers(0, 4)),
        _failures,
        _failures,
        st.builds(Wait, st.sampled_from([10, 30, 60, 120])),
    ),
    max_size=40,
)


@define
class _Delivery:
    booking_id: str
    attempts: int = 0
    delivered: bool = False
    given_up: bool = False
    next_attempt_at: datetime | None = None
    leased_until: datetime | None = None

    def due(self, now: datetime) -> bool:
        waiting = (self.next_attempt_at and self.next_attempt_at > now) or (
            self.leased_until and self.leased_until > now
        )
        return not (self.delivered or self.given_up or waiting)


@define
class _Run:
    store: StoreWithOutbox
    example: int = field(factory=lambda: next(_examples))
    now: datetime = NOW
    deliveries: list[_Delivery] = field(factory=list)  # in the order recorded: the order of seq
    last_claim: list[tuple[OutboxItem, _Delivery]] = field(factory=list)

    @property
    def channel(self) -> str:
        return f"channel-{self.example}"

    async def record(self) -> None:
        number = len(self.deliveries)
        booking, placed = hold(
            f"ob{self.example}-{number}", 60 * number, practitioner_id=f"outbox-{self.example}", at=self.now
        )
        await self.store.add_if_free(booking, placed)
        self.deliveries.append(_Delivery(booking.id))

    async def claim(self, step: Claim) -> None:
        expected = [d for d in self.deliveries if d.due(self.now)][: step.limit]
        items = await self.store.claim(
            self.channel, self.now, limit=step.limit, lease_seconds=step.lease_seconds
        )
        assert [(i.event.booking_id, i.attempts) for i in items] == [
            (d.booking_id, d.attempts) for d in expected
        ]
        assert [i.seq for i in items] == sorted(i.seq for i in items)
        event("claimed some" if items else "claimed none")
        event("a retry claimed" if any(i.attempts for i in items) else "no retry claimed")
        for delivery in expected:
            delivery.leased_until = self.now + timedelta(seconds=step.lease_seconds)
        self.last_claim = list(zip(items, expected, strict=True))

    async def deliver(self, step: Deliver) -> None:
        batch, self.last_claim = self.last_claim[: step.count], self.last_claim[step.count :]
        await self.store.mark_delivered(self.channel, [item.seq for item, _ in batch], self.now)
        for _, delivery in batch:
            delivery.delivered, delivery.leased_until = True, None

    async def fail(self, step: Fail) -> None:
        if not self.last_claim:
            return
        item, delivery = self.last_claim.pop(step.index % len(self.last_claim))
        retry_at = None if step.retry_seconds is None else self.now + timedelta(seconds=step.retry_seconds)
        await self.store.mark_failed(self.channel, item.seq, self.now, "generated failure", retry_at)
        delivery.attempts += 1
        delivery.given_up, delivery.next_attempt_at, delivery.leased_until = retry_at is None, retry_at, None

    async def the_failures_agree(self) -> None:
        listed = await self.store.failures(self.channel)
        assert [(f.booking_id, f.attempts, f.next_attempt_at) for f in listed] == [
            (d.booking_id, d.attempts, d.next_attempt_at)
            for d in self.deliveries
            if d.attempts and not d.delivered
        ]


class OutboxPropertyContract:
    """Generated runs against the model. Fixture: `store`, empty, both ports in one."""

    pytestmark = pytest.mark.anyio

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(steps=runs)
    async def test_claims_hand_out_what_the_model_says(
        self, store: StoreWithOutbox, steps: list[Step]
    ) -> None:
        run = _Run(store)
        await store.claim(run.channel, run.now)  # the channel starts here: the history before is not its
        for step in steps:
            if isinstance(step, Record):
                await run.record()
            elif isinstance(step, Claim):
                await run.claim(step)
            elif isinstance(step, Deliver):
                await run.deliver(step)
            elif isinstance(step, Fail):
                await run.fail(step)
            else:
                run.now += timedelta(seconds=step.seconds)
        await run.the_failures_agree()
