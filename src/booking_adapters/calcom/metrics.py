"""Prometheus counters of the Cal.com adapter (registered once, in the default registry)."""

from __future__ import annotations

from prometheus_client import Counter

CALCOM_REQUESTS = Counter(
    "calcom_requests",
    "Requests to the Cal.com API, by endpoint and outcome (HTTP status, timeout, unreachable).",
    ["endpoint", "outcome"],
)
AVAILABILITY_DEGRADED = Counter(
    "calcom_availability_degraded",
    "Availability answered without Cal.com: from its last good answer or from the schedule.",
    ["source"],
)
WRITEBACK_CONFLICTS = Counter(
    "calcom_writeback_slot_taken",
    "Confirmed bookings Cal.com refused because its calendar had the slot taken meanwhile.",
    ["policy"],
)
