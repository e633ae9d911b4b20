"""The table a run prints (and docs/performance.md quotes): each row beside its ceiling."""

from __future__ import annotations

import math

from attrs import frozen

from bench.load.sample import Sample

# Issue 19's targets, each a ratio to a ceiling measured in the same run (one worker).
AVAILABILITY_TARGET = 0.75  # a cached answer, of the bare GET
COMPUTED_TARGET = 0.30  # an answer computed for a query the cache has not seen, of the bare GET
BOOKING_TARGET = 0.90  # of the booking floor's bookings a second (bench/load/floor.py)
BOOKING_P99_TARGET = 2.0  # at most this many times the floor's p99
SLOW_STRIPE_TARGET = 0.95  # of the floor's bookings a second when Stripe answers after 1 s
P99_TARGET_MS = 50.0


@frozen
class Row:
    scenario: str
    workers: int
    ours: Sample
    ceiling: Sample
    ceiling_label: str
    expected: tuple[int, ...] = (200,)
    target: float | None = None  # of the ceiling's throughput
    p99_target_ms: float | None = None
    p99_ratio_target: float | None = None  # at most this many times the ceiling's p99
    raw_insert: Sample | None = None

    @property
    def ratio(self) -> float:
        return self.ours.per_second / self.ceiling.per_second if self.ceiling.per_second else math.nan

    @property
    def p99_ratio(self) -> float:
        return self.ours.p99_ms / self.ceiling.p99_ms if self.ceiling.p99_ms else math.nan

    def verdict(self) -> str:
        checks = []
        if self.target is not None:
            checks.append(("ok" if self.ratio >= self.target else "MISS") + f" >= {self.target:.0%}")
        if self.p99_target_ms is not None:
            met = self.ours.p99_ms < self.p99_target_ms
            checks.append(("ok" if met else "MISS") + f" p99 < {self.p99_target_ms:.0f} ms")
        if self.p99_ratio_target is not None:
            met = self.p99_ratio <= self.p99_ratio_target
            checks.append(("ok" if met else "MISS") + f" p99 <= {self.p99_ratio_target:g}x")
        return ", ".join(checks)


@frozen
class FlashSale:
    workers: int
    slots: int
    sample: Sample
    sold_out_seconds: float  # from the first request sent to the last 201 received
    live_in_database: int

    @property
    def exact(self) -> bool:
        clients = self.sample.answered + self.sample.errors
        return (
            self.sample.count(201) == self.slots == self.live_in_database
            and self.sample.count(409) == clients - self.slots
        )


def _ms(value: float) -> str:
    return f"{value:,.1f}"


def _cpu(sample: Sample) -> str:
    return "" if math.isnan(sample.server_cpu_ms) else f"{sample.server_cpu_ms:.2f}"


def rows_table(rows: list[Row]) -> str:
    lines = [
        "| scenario | workers | requests/s | p50 ms | p99 ms | other answers | server CPU ms/req "
        "| ceiling | ceiling req/s | ceiling p99 ms | ceiling CPU ms/req | ratio | p99 ratio "
        "| vs raw INSERT | target |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        raw = f"{r.ours.per_second / r.raw_insert.per_second:.2f}" if r.raw_insert else ""
        lines.append(
            f"| {r.scenario} | {r.workers} | {r.ours.per_second:,.0f} | {_ms(r.ours.p50_ms)} "
            f"| {_ms(r.ours.p99_ms)} | {r.ours.unexpected(*r.expected)} | {_cpu(r.ours)} | {r.ceiling_label} "
            f"| {r.ceiling.per_second:,.0f} | {_ms(r.ceiling.p99_ms)} | {_cpu(r.ceiling)} | {r.ratio:.2f} "
            f"| {r.p99_ratio:.2f} | {raw} | {r.verdict()} |"
        )
    return "\n".join(lines)


def flash_table(sales: list[FlashSale]) -> str:
    lines = [
        "| flash sale | workers | 201 | 409 | other | live bookings in the database | sold out after | "
        "all answered after | exact |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in sales:
        clients = s.sample.answered + s.sample.errors
        other = s.sample.unexpected(201, 409)
        lines.append(
            f"| {clients} clients, {s.slots} slots | {s.workers} | {s.sample.count(201)} "
            f"| {s.sample.count(409)} | {other} | {s.live_in_database} | {s.sold_out_seconds * 1000:,.0f} ms "
            f"| {s.sample.seconds * 1000:,.0f} ms | {'yes' if s.exact else 'NO'} |"
        )
    return "\n".join(lines)


def raw_insert_line(raw: Sample, connections: int) -> str:
    return (
        f"raw PostgreSQL INSERT (psycopg async, {connections} connections, one row per transaction): "
        f"{raw.per_second:,.0f}/s, p50 {_ms(raw.p50_ms)} ms, p99 {_ms(raw.p99_ms)} ms"
    )
