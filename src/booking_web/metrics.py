"""Prometheus metrics: requests and latency by route, booking transitions, provider errors and retries,
outbox deliveries. Adapters' own metrics (Cal.com) live in the default registry and are exposed too.

Each app has its own registry (tests build many apps in one process). Under `serve --workers N`
the CLI sets PROMETHEUS_MULTIPROC_DIR, and /metrics aggregates every worker's numbers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from attrs import define, field
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from booking_core import Booking, BookingEvent, Practitioner, TimeOff

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@define
class Metrics:
    registry: CollectorRegistry = field(factory=lambda: CollectorRegistry(auto_describe=True))
    requests: Counter = field(init=False)
    latency: Histogram = field(init=False)
    transitions: Counter = field(init=False)
    provider_errors: Counter = field(init=False)
    provider_retries: Counter = field(init=False)
    outbox_deliveries: Counter = field(init=False)
    outbox_failing: Gauge = field(init=False)
    availability_cache: Counter = field(init=False)
    # Label lookups cost more than the increments; each request's children are found once.
    _request_children: dict[tuple[str, str, int], tuple[Any, Any]] = field(init=False, factory=dict)
    _availability_children: dict[bool, Any] = field(init=False)

    def __attrs_post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "http_requests", "HTTP requests answered", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "http_request_duration_seconds", "Time to answer a request", ["method", "route"], registry=r
        )
        self.transitions = Counter(
            "booking_transitions",
            "Booking status changes",
            ["trigger", "from_status", "to_status"],
            registry=r,
        )
        self.provider_errors = Counter(
            "provider_errors", "Failures of outside systems seen by clients", ["provider"], registry=r
        )
        self.provider_retries = Counter(
            "provider_retries", "Retried calls to outside systems", ["provider"], registry=r
        )
        self.outbox_deliveries = Counter(
            "booking_outbox_deliveries",
            "Outbox delivery attempts by outcome (delivered, failed: retried later, gave_up)",
            ["outcome"],
            registry=r,
        )
        self.outbox_failing = Gauge(
            "booking_outbox_failing",
            "Deliveries whose last attempt failed (retrying or given up), per channel",
            ["channel"],
            registry=r,
            multiprocess_mode="livemax",  # every worker reads the same table: any live one will do
        )
        self.availability_cache = Counter(
            "booking_availability_cache",
            "Availability answers served from this process's cache (hit) or computed (miss)",
            ["result"],
            registry=r,
        )
        self._availability_children = {
            True: self.availability_cache.labels(result="hit"),
            False: self.availability_cache.labels(result="miss"),
        }

    def count_availability(self, *, cached: bool) -> None:
        self._availability_children[cached].inc()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count an answered request and its latency (`route`: the template, a bounded value)."""
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = (self.requests.labels(method, route, str(status)), self.latency.labels(method, route))
            self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self) -> bytes:
        if os.environ.get(MULTIPROC_ENV):
            merged = CollectorRegistry()
            MultiProcessCollector(merged)  # type: ignore[no-untyped-call]  # prometheus-client lacks hints here
            return generate_latest(merged)
        return generate_latest(self.registry) + generate_latest(REGISTRY)


@define
class CountingChangeListener:
    """The BookingChangeListener the service is given: every committed transition passes here, so
    it is counted here, and `changed` wakes the outbox worker and voids the availability cache
    (also after a change to time off, which changes availability as bookings do).
    (Messages to clients go through the outbox, not through this port.) `changed` is told whose
    bookings changed."""

    metrics: Metrics
    changed: Callable[[str], None] = lambda practitioner_id: None

    async def booking_changed(
        self, booking: Booking, event: BookingEvent, practitioner: Practitioner
    ) -> None:
        del practitioner
        self.metrics.transitions.labels(
            trigger=event.trigger.value,
            from_status=event.from_status.value if event.from_status else "none",
            to_status=event.to_status.value,
        ).inc()
        self.changed(booking.practitioner_id)

    async def time_off_changed(self, time_off: TimeOff) -> None:
        self.changed(time_off.practitioner_id)
