"""`python -m bench.load.two_hosts`: two `booking serve` instances (one worker each, their own ports)
on one PostgreSQL database and one Redis, as two hosts behind a load balancer would run them, against
one instance alone, in the same run; how soon a booking on one leaves the other's cached
availability; what a rate-limit check costs in memory and in Redis. Everything on 127.0.0.1, every
phase bounded; docs/scaling.md quotes it.

    .venv/bin/python -m bench.load.two_hosts --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path

import redis
import uvloop

from bench.load import drive, scenarios, stripe_server
from bench.load.client import Connection, Request
from bench.load.database import fresh_database
from bench.load.practitioners import regular_id, write_practitioners
from bench.load.processes import booking_command, free_port, run_once, serving, tree_cpu_seconds
from bench.load.sample import Sample
from booking_web.rate_limits import Limit, RateLimits

HOST = "127.0.0.1"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
WEBHOOK_SECRET = "whsec_fake_two_hosts_bench"
PRACTITIONERS = 120
CONNECTIONS = 16  # in all: split evenly over the instances
INVALIDATION_ROUNDS = 20
POLL_LIMIT = 2_000  # availability reads per round at most, waiting for the slot to go
LIMIT_CHECKS = 5_000


@contextmanager
def _redis_prefix(url: str) -> Iterator[str]:
    prefix = f"booking-bench-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


class TwoHostsRun:
    def __init__(self, seconds: float, stack: ExitStack) -> None:
        self.seconds = seconds
        self.stack = stack
        self.tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="booking-two-hosts-")))
        self.first = scenarios.first_day(date.today())
        self.practitioners = [regular_id(n) for n in range(PRACTITIONERS)]
        redis_url = os.environ.get("BOOKING_TEST_REDIS_URL", DEFAULT_REDIS_URL)
        self.env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"} | {
            "BOOKING_SECRET_KEY": "two-hosts-bench-secret-" + "x" * 32,
            "STRIPE_SECRET_KEY": "sk_test_fake_two_hosts",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "BOOKING_RATE_LIMIT_PER_MINUTE": "10000",
            "FORWARDED_ALLOW_IPS": HOST,  # booking requests name their client (scenarios.client_address)
            "HOLD_LIMIT_PER_CLIENT": "10000",
            "HOLD_LIMIT_PRACTITIONER_SHARE": "1",
            "ACCESS_LOG": "false",
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": stack.enter_context(_redis_prefix(redis_url)),
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def start(self) -> tuple[list[int], list[int]]:
        """Database, practitioners, fake Stripe, two instances: their ports and process ids."""
        admin = os.environ.get("BOOKING_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)
        self.env["DATABASE_URL"] = self.stack.enter_context(fresh_database(admin, self.env))
        toml = self.tmp / "practitioners.toml"
        write_practitioners(toml, PRACTITIONERS, [])
        run_once(booking_command("practitioners", "import", str(toml)), self.env)
        self.env["STRIPE_API_BASE"] = stripe_server.start(
            self.stack, "fake-stripe", self.env, self.tmp, WEBHOOK_SECRET
        )
        ports, pids = [], []
        for name in ("one", "other"):
            port = free_port()
            env = self.env | {"BOOKING_DATA_DIR": str(self.tmp / name)}
            serve = booking_command("serve", "--port", str(port))
            server = self.stack.enter_context(
                serving(f"booking-{name}", serve, env, f"http://{HOST}:{port}/readyz", self.tmp)
            )
            ports.append(port)
            pids.append(server.pid)
        return ports, pids

    async def saturate(self, ports: list[int], pids: list[int], request_for: drive.RequestFor) -> Sample:
        """Closed loop on every port at once, CONNECTIONS in all; one Sample of them all."""

        def cpu() -> float:
            return sum(tree_cpu_seconds(pid) for pid in pids)

        def numbered_apart(index: int) -> drive.RequestFor:
            # the n-th request on each port: two instances never send the same one
            return lambda n: request_for(n * len(ports) + index)

        samples = await asyncio.gather(
            *(
                drive.saturate(
                    HOST,
                    port,
                    numbered_apart(index),
                    connections=CONNECTIONS // len(ports),
                    seconds=self.seconds,
                    warmup=1.0,
                    server_cpu=cpu if index == 0 else None,
                )
                for index, port in enumerate(ports)
            )
        )
        total = Sample(seconds=max(s.seconds for s in samples), server_cpu=samples[0].server_cpu)
        for sample in samples:
            total.statuses.update(sample.statuses)
            total.latencies += sample.latencies
            total.errors += sample.errors
            total.body_bytes += sample.body_bytes
        return total

    async def invalidation_ms(self, booking_port: int, reading_port: int) -> list[float]:
        """Per round: a practitioner's week read twice on the reader (the second from its cache), its
        first slot booked on the other instance, then the reader asked again until that slot is gone:
        milliseconds from the booking's 201 to the first answer without it."""
        writer, reader = Connection(HOST, booking_port), Connection(HOST, reading_port)
        delays = []
        try:
            for number in range(INVALIDATION_ROUNDS):
                practitioner = self.practitioners[-1 - number]  # none booked by the phases before
                week = Request("GET", scenarios.availability_path(practitioner, self.first, 7))
                await reader.send(week)
                starts = [slot["start"] for slot in json.loads((await reader.send(week)).body)["slots"]]
                body = scenarios.booking_body(practitioner, starts[0], number)
                booked = await writer.send(Request("POST", "/api/bookings", body, f"10.78.0.{number}"))
                if booked.status != 201:
                    raise RuntimeError(f"booking for the invalidation round: {booked.status} {booked.body!r}")
                at = time.perf_counter()
                for _ in range(POLL_LIMIT):
                    slots = json.loads((await reader.send(week)).body)["slots"]
                    if starts[0] not in [slot["start"] for slot in slots]:
                        delays.append((time.perf_counter() - at) * 1000)
                        break
                else:
                    raise RuntimeError(f"{POLL_LIMIT} reads later the booked slot was still offered")
        finally:
            await writer.close()
            await reader.close()
        return delays


async def limit_check_ms(redis_url: str | None, prefix: str) -> float:
    """CPU milliseconds of one rate-limit check (process time over LIMIT_CHECKS checks)."""
    limits = RateLimits(redis_url, prefix)
    limit = Limit("bench", 1_000_000, 60)
    try:
        await limits.seconds_until_allowed(limit, "warm")
        started = time.process_time()
        for number in range(LIMIT_CHECKS):
            await limits.seconds_until_allowed(limit, f"10.79.{number // 256}.{number % 256}")
        return (time.process_time() - started) * 1000 / LIMIT_CHECKS
    finally:
        await limits.close()


def _line(name: str, sample: Sample) -> str:
    return (
        f"| {name} | {sample.per_second:,.0f} | {sample.p50_ms:,.1f} | {sample.p99_ms:,.1f} "
        f"| {sample.unexpected(200, 201)} | {sample.server_cpu_ms:.2f} |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load.two_hosts", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="measured per phase (max 20)")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    started = time.monotonic()
    with ExitStack() as stack:
        run = TwoHostsRun(min(args.seconds, 20.0), stack)
        ports, pids = run.start()
        open_slots = uvloop.run(_open_slots(ports[0], run.practitioners[: PRACTITIONERS // 2], run.first))
        alone_slots, both_slots = open_slots[0::2], open_slots[1::2]
        week = scenarios.availability_requests(run.practitioners, run.first, 7)
        rows = [
            ("availability, 1 week, one instance", uvloop.run(run.saturate(ports[:1], pids[:1], week))),
            ("availability, 1 week, two instances", uvloop.run(run.saturate(ports, pids, week))),
            (
                "booking creation, one instance",
                uvloop.run(run.saturate(ports[:1], pids[:1], scenarios.booking_requests(alone_slots))),
            ),
            (
                "booking creation, two instances",
                uvloop.run(run.saturate(ports, pids, scenarios.booking_requests(both_slots))),
            ),
        ]
        delays = uvloop.run(run.invalidation_ms(ports[0], ports[1]))
        memory_ms = uvloop.run(limit_check_ms(None, "unused"))
        redis_ms = uvloop.run(limit_check_ms(run.env["REDIS_URL"], run.env["REDIS_KEY_PREFIX"]))
    print(
        f"{os.cpu_count()} cores shared by the load generator, both instances, the fake Stripe, PostgreSQL "
        f"and Redis; load average before the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        f"{args.seconds:g} s per phase after 1 s warm-up, {CONNECTIONS} connections in all; "
        f"run took {time.monotonic() - started:.0f} s"
    )
    print()
    print("| phase | requests/s | p50 ms | p99 ms | other answers | server CPU ms/req (all instances) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, sample in rows:
        print(_line(name, sample))
    print()
    print(
        "a booking on one instance gone from the other's cached week: "
        f"median {statistics.median(delays):.1f} ms, max {max(delays):.1f} ms after the booking's answer "
        f"({len(delays)} rounds)"
    )
    print(
        f"one rate-limit check, client CPU: {memory_ms * 1000:.0f} µs in memory, "
        f"{redis_ms * 1000:.0f} µs with Redis ({LIMIT_CHECKS:,} checks each)"
    )


async def _open_slots(port: int, practitioner_ids: list[str], first: date) -> list[tuple[str, str]]:
    connection = Connection(HOST, port)
    try:
        return await scenarios.open_slots(connection, practitioner_ids, first, 58)
    finally:
        await connection.close()


if __name__ == "__main__":
    main()
