"""The outbox worker of a process: runs the relay every few seconds and right after a booking change,
and keeps the failing deliveries visible (a gauge per channel, a log line when they change)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

import anyio
import anyio.lowlevel
from attrs import define, field

from booking_core import Outbox, OutboxRelay, RelayReport, StorageUnavailable
from booking_web.metrics import Metrics

log = logging.getLogger(__name__)

MAX_PASSES = 20  # x BATCH items per channel: a backlog larger than that waits for the next round
BATCH = 50  # items claimed per channel and pass
MIN_ROUND_SECONDS = 0.5  # while bookings keep changing, one round at most this often (batches them)


def combined(first: RelayReport, second: RelayReport) -> RelayReport:
    return RelayReport(
        first.delivered + second.delivered, first.failed + second.failed, first.gave_up + second.gave_up
    )


@define
class OutboxWorker:
    relay: OutboxRelay
    outbox: Outbox
    metrics: Metrics
    changed: asyncio.Event = field(factory=asyncio.Event)  # set by the notifier after each change
    _failing: dict[str, tuple[int, int]] = field(factory=dict, init=False)  # last logged, per channel

    async def register_channels(self) -> None:
        """A channel seen for the first time starts after the history that exists then. Call this
        before any booking can change (at start-up), so that no event falls between registration
        and the first delivery. Registering claims at most one item with a zero lease: nothing is
        delivered and nothing is held back from the next pass."""
        now = self.relay.clock.now()
        for channel in self.relay.channels:
            await self.outbox.claim(channel.name, now, limit=1, lease_seconds=0)

    async def deliver_pending(self, max_passes: int = MAX_PASSES, *, record: bool = True) -> RelayReport:
        """Relay passes while one leaves more behind (some channel took a full batch; at most
        `max_passes`); the totals. `record`: update the failing gauges afterwards.

        A pass is shielded from cancellation: a stopping process finishes the pass under way (each
        delivery is bounded by its channel's timeouts) instead of abandoning a database transaction
        mid-flight, which leaves aiosqlite connections closing after their event loop is gone."""
        total = RelayReport()
        for _ in range(max_passes):
            with anyio.CancelScope(shield=True):
                report = await self.relay.run_once(limit=BATCH)
            total = combined(total, report)
            for outcome in ("delivered", "failed", "gave_up"):
                self.metrics.outbox_deliveries.labels(outcome=outcome).inc(getattr(report, outcome))
            if report.delivered + report.failed + report.gave_up < BATCH:
                break  # no channel took a full batch: nothing was left behind (later changes wake us)
            await anyio.lowlevel.checkpoint()  # where a stopping process leaves the loop
        if record:
            with anyio.CancelScope(shield=True):
                await self.record_failures()
        return total

    async def record_failures(self) -> None:
        failures = await self.outbox.failures()
        failing = Counter(failure.channel for failure in failures)
        given_up = Counter(failure.channel for failure in failures if failure.next_attempt_at is None)
        for name in {channel.name for channel in self.relay.channels} | failing.keys():
            self.metrics.outbox_failing.labels(channel=name).set(failing[name])
            counts = (failing[name], given_up[name])
            if counts != self._failing.get(name, (0, 0)):
                log.log(
                    logging.WARNING if counts[0] else logging.INFO,
                    "outbox channel %s: %d deliveries failing, %d of them given up "
                    "(`booking outbox list --failed` shows them)",
                    name,
                    *counts,
                )
            self._failing[name] = counts

    async def run(self, interval_seconds: float, min_round_seconds: float = MIN_ROUND_SECONDS) -> None:
        """Deliver now (what waited while the process was down), then every `interval_seconds` or
        as soon as a booking changes (but not sooner than `min_round_seconds` after the last round
        began: under load one round takes many changes), until cancelled. The failing gauges are
        updated after a round with failures, and otherwise every `interval_seconds` (their query
        reads every delivery record)."""
        recorded_at = -float("inf")
        while True:
            self.changed.clear()  # a change during the pass below triggers the next one at once
            began = time.monotonic()
            try:
                report = await self.deliver_pending(record=False)
                if report.failed or report.gave_up or began - recorded_at >= interval_seconds:
                    with anyio.CancelScope(shield=True):
                        await self.record_failures()
                    recorded_at = began
            except StorageUnavailable:  # expected while the database restarts: one line, not a trace
                log.warning("outbox delivery round skipped: the database is not reachable")
            except Exception:  # anything else is a bug worth its trace; the next round retries
                log.exception("outbox delivery round failed")
            with anyio.move_on_after(interval_seconds):
                await self.changed.wait()
            await anyio.sleep(max(0.0, began + min_round_seconds - time.monotonic()))
