"""The share of availability answers served from the service's cache, read from its /metrics
(booking_availability_cache_total, summed over workers) between two moments of a run."""

from __future__ import annotations

import math
import re

import httpx

_COUNTER = re.compile(r'^booking_availability_cache_total\{result="(hit|miss)"\} ([0-9.e+]+)$', re.MULTILINE)


class CacheHits:
    def __init__(self, port: int, token: str) -> None:
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.headers = {"Authorization": f"Bearer {token}"}  # the bench's service is not in development mode
        self.last = self._read()

    def _read(self) -> dict[str, float]:
        response = httpx.get(self.url, headers=self.headers, timeout=30)
        response.raise_for_status()  # a closed /metrics must not read as "no answers" (NaN)
        text = response.text
        return {result: float(count) for result, count in _COUNTER.findall(text)}

    def since_last(self) -> float:
        """Hits / answers since the previous call (NaN if none)."""
        now = self._read()
        hits = now.get("hit", 0.0) - self.last.get("hit", 0.0)
        answers = hits + now.get("miss", 0.0) - self.last.get("miss", 0.0)
        self.last = now
        return hits / answers if answers else math.nan
