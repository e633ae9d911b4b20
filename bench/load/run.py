"""One run: database, practitioners, fake Stripe, then per worker count the service's phases and the
bare endpoint's, each phase bounded by `seconds` (+ warm-up) or by a fixed number of requests."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Coroutine
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import uvloop
from attrs import define, field, frozen

from bench.load import drive, floor, scenarios, stripe_server
from bench.load.cache_hits import CacheHits
from bench.load.client import Connection
from bench.load.database import fresh_database, live_bookings, raw_insert_rate
from bench.load.practitioners import flash_id, regular_id, write_practitioners
from bench.load.processes import (
    booking_command,
    free_port,
    python_module,
    run_once,
    serving,
    tree_cpu_seconds,
)
from bench.load.profile import profiling
from bench.load.report import (
    AVAILABILITY_TARGET,
    BOOKING_P99_TARGET,
    BOOKING_TARGET,
    COMPUTED_TARGET,
    P99_TARGET_MS,
    SLOW_STRIPE_TARGET,
    FlashSale,
    Row,
)
from bench.load.sample import Sample

T = TypeVar("T")
HOST = "127.0.0.1"
WEBHOOK_SECRET = "whsec_fake_load_bench"
METRICS_TOKEN = "load-bench-metrics-" + "x" * 32
BOOKING_PRACTITIONERS = 40  # per worker count: ~300 free slots each, far more than a phase books
PACED_CONNECTIONS = 8
SLOW_STRIPE_SECONDS = 1.0  # how late the slow fake Stripe answers
SLOW_CONNECTIONS = 100


@frozen
class Options:
    admin_url: str
    workers: tuple[int, ...] = (1, 2)
    seconds: float = 5.0
    warmup: float = 1.0
    connections: int = 16
    practitioners: int = 300
    flash_clients: int = 200
    flash_slots: int = 20
    paced_fraction: float = 0.5
    profile_dir: Path | None = None
    access_log: bool = False  # the service's ACCESS_LOG (a proxy in front logs requests)


@define
class Results:
    raw_insert: Sample | None = None
    rows: list[Row] = field(factory=list)
    flash_sales: list[FlashSale] = field(factory=list)


def measure(coroutine: Coroutine[Any, Any, T]) -> T:
    """Each phase on a fresh uvloop loop: the load generator pays as little per request as it can."""
    return uvloop.run(coroutine)


class LoadRun:
    def __init__(self, options: Options, stack: ExitStack) -> None:
        self.options = options
        self.stack = stack
        self.tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="booking-load-")))
        self.first = scenarios.first_day(date.today())
        self.results = Results()
        self.env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"} | {
            "BOOKING_SECRET_KEY": "load-bench-secret-" + "x" * 32,
            "METRICS_TOKEN": METRICS_TOKEN,  # the cache's share of answers is read from /metrics
            "STRIPE_SECRET_KEY": "sk_test_fake_load_bench",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "BOOKING_DATA_DIR": str(self.tmp / "data"),
            "BOOKING_RATE_LIMIT_PER_MINUTE": "10000",  # the flash sale and the paced phases' clients
            "FORWARDED_ALLOW_IPS": HOST,  # booking requests name their client (scenarios.client_address)
            "HOLD_LIMIT_PER_CLIENT": "10000",  # one address and phone for every client
            "HOLD_LIMIT_PRACTITIONER_SHARE": "1",
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def execute(self) -> Results:
        o = self.options
        self.env["DATABASE_URL"] = self.stack.enter_context(fresh_database(o.admin_url, self.env))
        toml = self.tmp / "practitioners.toml"
        write_practitioners(toml, o.practitioners, [f"{n}w" for n in o.workers])
        run_once(booking_command("practitioners", "import", str(toml)), self.env)
        self.env["STRIPE_API_BASE"] = stripe_server.start(
            self.stack, "fake-stripe", self.env, self.tmp, WEBHOOK_SECRET
        )
        self.slow_stripe = stripe_server.start(
            self.stack, "slow-stripe", self.env, self.tmp, WEBHOOK_SECRET, SLOW_STRIPE_SECONDS
        )
        floor.create_table(self.env["DATABASE_URL"])
        self.results.raw_insert = measure(
            raw_insert_rate(
                self.env["DATABASE_URL"], connections=o.connections, seconds=o.seconds, warmup=o.warmup
            )
        )
        for index, workers in enumerate(o.workers):
            self._worker_count(index, workers)
        return self.results

    def _saturate(
        self,
        port: int,
        request_for: drive.RequestFor,
        server_pid: int | None = None,
        *,
        connections: int | None = None,
        warmup: float | None = None,
    ) -> Sample:
        o = self.options
        return measure(
            drive.saturate(
                HOST,
                port,
                request_for,
                connections=connections or o.connections,
                seconds=o.seconds,
                warmup=o.warmup if warmup is None else warmup,
                server_cpu=(lambda: tree_cpu_seconds(server_pid)) if server_pid is not None else None,
            )
        )

    def _profiled(self, pid: int, name: str, workers: int) -> Any:
        o = self.options
        output = o.profile_dir / f"{name}-{workers}w.txt" if o.profile_dir else None
        return profiling(pid, output, o.seconds + o.warmup)

    def _worker_count(self, index: int, workers: int) -> None:
        o = self.options
        one = workers == 1  # issue 19's targets are for one worker
        everyone = [regular_id(n) for n in range(o.practitioners)]
        bookable = everyone[index * BOOKING_PRACTITIONERS : (index + 1) * BOOKING_PRACTITIONERS]
        port = free_port()
        env = self.env | {"PORT": str(port), "ACCESS_LOG": str(o.access_log).lower()}
        if workers > 1:
            metrics_dir = self.tmp / f"metrics-{workers}"
            metrics_dir.mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        command = booking_command("serve", "--port", str(port), "--workers", str(workers))
        week_requests = scenarios.availability_requests(everyone, self.first, 7)
        with serving(f"booking-{workers}w", command, env, f"http://{HOST}:{port}/readyz", self.tmp) as server:
            slots = measure(self._open_slots(port, bookable, days=58))
            # half the slots for the booking phase (and the floor's), half for the slow Stripe's
            fast_slots, slow_slots = slots[0::2], slots[1::2]
            for days in (7, 30):  # each answer once: the phases measure a warm cache (see below)
                measure(self._each_once(port, scenarios.availability_requests(everyone, self.first, days)))
            hits = CacheHits(port, METRICS_TOKEN)
            with self._profiled(server.pid, "availability-week", workers):
                week = self._saturate(port, week_requests, server.pid)
            week_hits = hits.since_last()
            month = self._saturate(
                port, scenarios.availability_requests(everyone, self.first, 30), server.pid
            )
            month_hits = hits.since_last()
            with self._profiled(server.pid, "availability-computed", workers):
                computed = self._saturate(
                    port, scenarios.distinct_availability_requests(everyone, self.first, 7), server.pid
                )
            computed_hits = hits.since_last()
            # The computed phase's distinct answers can crowd the week's out of the cache (10,000
            # answers at most): the paced row measures a warm cache, as the others do.
            measure(self._each_once(port, week_requests))
            rate = max(1.0, o.paced_fraction * week.per_second)
            calm = measure(
                drive.paced(
                    HOST, port, week_requests, rate=rate, connections=PACED_CONNECTIONS, seconds=o.seconds
                )
            )
            with self._profiled(server.pid, "booking-create", workers):
                create = self._saturate(port, scenarios.booking_requests(fast_slots), server.pid)
            flash = self._flash_sale(port, workers)
        uncached = slow = slow_floor = None
        if one:  # what every request cost without the cache (and what a miss costs)
            command = booking_command("serve", "--port", str(port))
            env_uncached = env | {"AVAILABILITY_CACHE_SECONDS": "0"}
            with serving(
                "booking-uncached", command, env_uncached, f"http://{HOST}:{port}/readyz", self.tmp
            ) as server:
                uncached = self._saturate(port, week_requests, server.pid)
            slow = self._slow_stripe_bookings(port, env, slow_slots)
            slow_floor = self._floor_bookings(port, workers, slow_slots, self.slow_stripe, slow=True)
        floor_create = self._floor_bookings(port, workers, fast_slots, self.env["STRIPE_API_BASE"])
        with serving(
            f"bare-{workers}w",
            python_module("bench.load.bare", "--port", str(port), "--workers", str(workers)),
            self.env,
            f"http://{HOST}:{port}/bare",
            self.tmp,
        ) as bare:
            bare_week = self._saturate(port, scenarios.bare_requests("GET", week.mean_body), bare.pid)
            bare_month = self._saturate(port, scenarios.bare_requests("GET", month.mean_body), bare.pid)
            bare_computed = self._saturate(port, scenarios.bare_requests("GET", computed.mean_body), bare.pid)

        def kb(sample: Sample) -> str:
            return f"{sample.mean_body / 1000:.1f} kB"

        distinct = scenarios.distinct_queries(o.practitioners)
        self.results.rows += [
            Row(
                f"availability, 1 week ({week_hits:.1%} from cache)",
                workers,
                week,
                bare_week,
                f"bare GET {kb(week)}",
                target=AVAILABILITY_TARGET if one else None,
            ),
            *(
                [Row("availability, 1 week, cache off", workers, uncached, bare_week, f"bare GET {kb(week)}")]
                if uncached is not None
                else []
            ),
            Row(
                f"availability, 1 week, computed: {distinct:,} distinct queries "
                f"(practitioner, start day, time zone; {computed_hits:.1%} from cache)",
                workers,
                computed,
                bare_computed,
                f"bare GET {kb(computed)}",
                target=COMPUTED_TARGET if one else None,
            ),
            Row(
                f"availability, 30 days ({month_hits:.1%} from cache)",
                workers,
                month,
                bare_month,
                f"bare GET {kb(month)}",
            ),
            Row(
                f"availability, 1 week, paced at {rate:,.0f}/s ({o.paced_fraction:.0%} of saturation)",
                workers,
                calm,
                bare_week,
                f"bare GET {kb(week)}",
                p99_target_ms=P99_TARGET_MS if one else None,
            ),
            Row(
                "booking creation, distinct slots, fake Stripe",
                workers,
                create,
                floor_create,
                "booking floor",
                expected=(201,),
                target=BOOKING_TARGET if one else None,
                p99_ratio_target=BOOKING_P99_TARGET if one else None,
                raw_insert=self.results.raw_insert,
            ),
            *(
                [
                    Row(
                        f"booking creation, Stripe answering after {SLOW_STRIPE_SECONDS:g} s, "
                        f"{SLOW_CONNECTIONS} connections",
                        workers,
                        slow,
                        slow_floor,
                        "booking floor, same Stripe",
                        expected=(201,),
                        target=SLOW_STRIPE_TARGET,
                    )
                ]
                if slow is not None and slow_floor is not None
                else []
            ),
        ]
        self.results.flash_sales.append(flash)

    def _slow_stripe_bookings(self, port: int, env: dict[str, str], slots: list[tuple[str, str]]) -> Sample:
        """Booking creation against the slow fake Stripe, SLOW_CONNECTIONS at once."""
        command = booking_command("serve", "--port", str(port))
        slow_env = env | {"STRIPE_API_BASE": self.slow_stripe}
        with serving(
            "booking-slow-stripe", command, slow_env, f"http://{HOST}:{port}/readyz", self.tmp
        ) as server:
            return self._saturate(
                port,
                scenarios.booking_requests(slots),
                server.pid,
                connections=SLOW_CONNECTIONS,
                warmup=self.options.warmup + SLOW_STRIPE_SECONDS,
            )

    def _floor_bookings(
        self, port: int, workers: int, slots: list[tuple[str, str]], stripe_base: str, *, slow: bool = False
    ) -> Sample:
        """The booking floor (bench/load/floor.py) booking `slots` in its own table."""
        command = python_module(
            "bench.load.floor",
            *("--port", str(port), "--workers", str(workers)),
            *("--database", self.env["DATABASE_URL"], "--stripe", stripe_base),
        )
        name = f"floor-{workers}w" + ("-slow-stripe" if slow else "")
        with serving(name, command, self.env, f"http://{HOST}:{port}/floor*", self.tmp) as server:
            return self._saturate(
                port,
                scenarios.booking_requests(slots, "/floor"),
                server.pid,
                connections=SLOW_CONNECTIONS if slow else None,
                warmup=self.options.warmup + (SLOW_STRIPE_SECONDS if slow else 0.0),
            )

    async def _each_once(self, port: int, request_for: drive.RequestFor) -> None:
        """Every practitioner's request of a phase once, on a few connections."""
        count = self.options.practitioners
        connections = [Connection(HOST, port) for _ in range(8)]
        try:

            async def send(connection: Connection, numbers: range) -> None:
                for n in numbers:
                    await connection.send(request_for(n))

            await asyncio.gather(*(send(c, range(i, count, 8)) for i, c in enumerate(connections)))
        finally:
            for connection in connections:
                await connection.close()

    async def _open_slots(self, port: int, practitioner_ids: list[str], days: int) -> list[tuple[str, str]]:
        connection = Connection(HOST, port)
        try:
            return await scenarios.open_slots(connection, practitioner_ids, self.first, days)
        finally:
            await connection.close()

    def _flash_sale(self, port: int, workers: int) -> FlashSale:
        o = self.options
        practitioner = flash_id(f"{workers}w")
        slots = measure(self._open_slots(port, [practitioner], days=14))[: o.flash_slots]
        if len(slots) < o.flash_slots:
            raise RuntimeError(f"{practitioner} offers only {len(slots)} slots in two weeks")
        requests = [scenarios.booking_requests(slots)(n) for n in range(o.flash_clients)]
        sample, answers = measure(drive.burst(HOST, port, requests))
        sold_out = max((at for status, at in answers if status == 201), default=float("nan"))
        live = live_bookings(self.env["DATABASE_URL"], practitioner)
        return FlashSale(workers, o.flash_slots, sample, sold_out, live)
