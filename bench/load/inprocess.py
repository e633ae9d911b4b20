"""Booking creation in one process, for profiling: the real app (its lifespan, outbox worker
included) called as ASGI, no HTTP server and no load generator beside it, so that the process's CPU
time per booking and cProfile's view of it are the service's alone. PostgreSQL and the fake Stripe
server as in `python -m bench.load`.

    python -m bench.load.inprocess --bookings 400                 # CPU ms per booking
    python -m bench.load.inprocess --bookings 400 --cprofile var/create.prof --top 40
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack, asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import attrs
import uvloop

from bench.load import scenarios
from bench.load.__main__ import DEFAULT_ADMIN_URL
from bench.load.database import fresh_database
from bench.load.practitioners import regular_id, write_practitioners
from bench.load.processes import booking_command, free_port, python_module, run_once, serving
from bench.load.run import HOST, WEBHOOK_SECRET

Message = dict[str, Any]
DRAIN_SECONDS = 3.0


async def call(app: Any, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    """One request through the ASGI app; its status and body."""
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def lifespan(app: Any, body: Callable[[], Awaitable[None]]) -> None:
    """Run `body` inside the app's lifespan (start-up, then shut-down)."""
    queue: asyncio.Queue[Message] = asyncio.Queue()
    started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def receive() -> Message:
        return await queue.get()

    async def send(message: Message) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set_result(None) if message["type"].endswith("complete") else started.set_exception(
                RuntimeError(message.get("message"))
            )
        elif message["type"].startswith("lifespan.shutdown"):
            finished.set_result(None)

    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    )
    await queue.put({"type": "lifespan.startup"})
    await started
    try:
        await body()
    finally:
        await queue.put({"type": "lifespan.shutdown"})
        await finished
        await task


class Parts:
    """Process CPU and wall time per call of wrapped coroutine functions (meaningful at concurrency 1:
    another task's work between the awaits would count too)."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}
        self.on = False

    def timed(self, name: str, function: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            cpu, wall = time.process_time(), time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                if self.on:
                    total = self.totals.setdefault(name, [0, 0.0, 0.0])
                    total[0] += 1
                    total[1] += time.process_time() - cpu
                    total[2] += time.perf_counter() - wall

        return wrapper

    def report(self, bookings: int) -> str:
        header = ("calls/booking", "CPU ms/call", "wall ms/call", "CPU ms/booking")
        lines = [f"{'step':45} " + " ".join(f"{h:>{len(h)}}" for h in header)]
        for name, (calls, cpu, wall) in sorted(self.totals.items(), key=lambda kv: -kv[1][1]):
            lines.append(
                f"{name:45} {calls / bookings:13.2f} {1000 * cpu / calls:11.3f} {1000 * wall / calls:12.3f} "
                f"{1000 * cpu / bookings:14.3f}"
            )
        return "\n".join(lines)


async def drive(
    env: dict[str, str],
    bookings: int,
    concurrency: int,
    profile: cProfile.Profile | None,
    *,
    outbox: bool,
    parts: Parts | None = None,
) -> None:
    os.environ.update(env)
    from booking_web.app import create_app
    from booking_web.bootstrap import open_container
    from booking_web.settings import Settings

    settings, problems = Settings.read(env)
    if problems:
        raise RuntimeError(problems)

    @asynccontextmanager
    async def build(settings: Any, metrics: Any) -> AsyncIterator[Any]:
        async with open_container(settings, metrics) as container:
            if parts is not None:
                service = container.service
                for target, names in (
                    (service, ("practitioner", "_free_slots")),
                    (service._changes, ("apply", "notify")),
                    (service.store, ("find_by_idempotency_key", "busy", "add_if_free", "save", "get")),
                    (service.payments, ("start_checkout",)),
                    (service.availability, ("candidate_slots",)),
                ):
                    for name in names:
                        cls = type(target)
                        setattr(cls, name, parts.timed(f"{cls.__name__}.{name}", getattr(cls, name)))
            yield container if outbox else attrs.evolve(container, outbox_worker=None)

    app = create_app(settings, build=build)

    async def body() -> None:
        first = scenarios.first_day(date.today())
        slots: list[tuple[str, str]] = []
        for n in range(40):
            status, answer = await call(app, "GET", scenarios.availability_path(regular_id(n), first, 58))
            assert status == 200, answer[:300]
            slots += [(regular_id(n), s["start"]) for s in json.loads(answer)["slots"]]
        slots = slots[::7] + slots[1::7]  # spread over practitioners and days
        warm = min(50, bookings // 4)
        queue = list(range(bookings + warm))
        statuses: dict[int, int] = {}

        async def client() -> None:
            while queue:
                n = queue.pop(0)
                if n == warm and profile is not None:
                    profile.enable()
                if n == warm and parts is not None:
                    parts.on = True
                status, answer = await call(
                    app, "POST", "/api/bookings", scenarios.booking_body(*slots[n], n)
                )
                statuses[status] = statuses.get(status, 0) + 1
                if status != 201:
                    print(status, answer[:200])

        # warm-up, then measure
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if profile is not None:
            profile.disable()
        if parts is not None:
            parts.on = False
            print(parts.report(bookings))
        after = time.process_time()
        await asyncio.sleep(DRAIN_SECONDS)  # the outbox worker catches up with what is left
        drain = time.process_time() - after
        total = bookings + warm
        print(
            f"{total} bookings ({warm} warm-up) in {wall:.2f} s wall: {total / wall:.0f}/s; "
            f"process CPU {1000 * cpu / total:.2f} ms a booking, plus {1000 * drain / total:.2f} ms "
            f"in the {DRAIN_SECONDS:g} s after; statuses {statuses}"
        )

    await lifespan(app, body)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load.inprocess")
    parser.add_argument("--bookings", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--cprofile", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument(
        "--parts", action="store_true", help="CPU per call of the main steps (use --concurrency 1)"
    )
    parser.add_argument("--no-outbox", action="store_true", help="no outbox worker (what it costs)")
    args = parser.parse_args()
    admin_url = os.environ.get("BOOKING_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="booking-inprocess-")))
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"} | {
            "BOOKING_SECRET_KEY": "load-bench-secret-" + "x" * 32,
            "STRIPE_SECRET_KEY": "sk_test_fake_load_bench",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "BOOKING_DATA_DIR": str(tmp / "data"),
            "BOOKING_RATE_LIMIT_PER_MINUTE": "10000",
            "HOLD_LIMIT_PER_CLIENT": "10000",  # one address and phone for every client
            "HOLD_LIMIT_PRACTITIONER_SHARE": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        }
        env["DATABASE_URL"] = stack.enter_context(fresh_database(admin_url, env))
        toml = tmp / "practitioners.toml"
        write_practitioners(toml, 80, [])
        run_once(booking_command("practitioners", "import", str(toml)), env)
        port = free_port()
        stack.enter_context(
            serving(
                "fake-stripe",
                python_module(
                    "bench.load.stripe_server", "--port", str(port), "--webhook-secret", WEBHOOK_SECRET
                ),
                env,
                f"http://{HOST}:{port}/v1/events/none*",
                tmp,
            )
        )
        env["STRIPE_API_BASE"] = f"http://{HOST}:{port}"
        profile = cProfile.Profile() if args.cprofile else None
        parts = Parts() if args.parts else None
        uvloop.run(
            drive(env, args.bookings, args.concurrency, profile, outbox=not args.no_outbox, parts=parts)
        )
        if profile is not None:
            profile.dump_stats(args.cprofile)
            pstats.Stats(str(args.cprofile)).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
