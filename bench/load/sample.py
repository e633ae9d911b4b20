"""What one load phase measured: answers by status, latencies, elapsed time."""

from __future__ import annotations

from collections import Counter

from attrs import define, field


@define
class Sample:
    seconds: float = 0.0
    statuses: Counter[int] = field(factory=Counter)
    latencies: list[float] = field(factory=list)  # seconds, one per answered request
    errors: int = 0  # connection failures and timeouts
    body_bytes: int = 0
    server_cpu: float | None = None  # seconds of the server's processes' CPU while recorded

    @property
    def server_cpu_ms(self) -> float:
        """Server CPU per answered request (NaN when not measured)."""
        if self.server_cpu is None or not self.answered:
            return float("nan")
        return 1000 * self.server_cpu / self.answered

    def record(self, status: int, latency: float, body_bytes: int = 0) -> None:
        self.statuses[status] += 1
        self.latencies.append(latency)
        self.body_bytes += body_bytes

    @property
    def mean_body(self) -> int:
        return self.body_bytes // self.answered if self.answered else 0

    @property
    def answered(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    @property
    def p50_ms(self) -> float:
        return self.percentile_ms(0.50)

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(0.99)

    def count(self, status: int) -> int:
        return self.statuses[status]

    def unexpected(self, *expected: int) -> int:
        """Answers with a status outside `expected`, plus transport errors."""
        return self.errors + sum(n for status, n in self.statuses.items() if status not in expected)
