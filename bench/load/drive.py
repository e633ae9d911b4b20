"""Load patterns over keep-alive connections, every one bounded by a fixed duration or count.

`saturate`: each connection sends its next request as soon as the last is answered (closed loop):
the throughput the service sustains, with the latency of a full queue.
`paced`: requests at a fixed overall rate (open loop), latency counted from when each request was
due, so a stalled server is not hidden by the client waiting for it (no coordinated omission).
`burst`: every client sends one request at the same instant (the flash sale).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

from bench.load.client import Connection, Request, Response
from bench.load.sample import Sample

RequestFor = Callable[[int], Request]  # the n-th request of a phase


async def _connections(host: str, port: int, count: int) -> list[Connection]:
    connections = [Connection(host, port) for _ in range(count)]
    await asyncio.gather(*(c.open() for c in connections))
    return connections


async def _close(connections: list[Connection]) -> None:
    await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)


async def _timed(connection: Connection, request: Request, due: float, sample: Sample) -> Response | None:
    try:
        response = await connection.send(request)
    except (ConnectionError, OSError, TimeoutError):
        sample.errors += 1
        await connection.close()
        return None
    sample.record(response.status, time.perf_counter() - due, len(response.body))
    return response


async def saturate(
    host: str,
    port: int,
    request_for: RequestFor,
    *,
    connections: int,
    seconds: float,
    warmup: float,
    server_cpu: Callable[[], float] | None = None,
) -> Sample:
    """Closed loop for `warmup` + `seconds`; only the last `seconds` are recorded (and, given
    `server_cpu` (seconds used so far), the server's CPU time over them)."""
    pool = await _connections(host, port, connections)
    numbers = itertools.count()
    warm, sample = Sample(), Sample()
    started = time.perf_counter()
    measuring_from = started + warmup
    deadline = measuring_from + seconds

    async def loop(connection: Connection) -> None:
        while (now := time.perf_counter()) < deadline:
            target = sample if now >= measuring_from else warm
            await _timed(connection, request_for(next(numbers)), now, target)

    async def cpu_meter() -> None:
        if server_cpu is None:
            return
        await asyncio.sleep(max(0.0, measuring_from - time.perf_counter()))
        used = server_cpu()
        await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
        sample.server_cpu = server_cpu() - used

    try:
        await asyncio.gather(cpu_meter(), *(loop(c) for c in pool))
    finally:
        await _close(pool)
    sample.seconds = time.perf_counter() - measuring_from
    return sample


async def paced(
    host: str, port: int, request_for: RequestFor, *, rate: float, connections: int, seconds: float
) -> Sample:
    """`rate` requests per second spread over `connections` for `seconds`."""
    pool = await _connections(host, port, connections)
    numbers = itertools.count()
    sample = Sample()
    interval = connections / rate
    started = time.perf_counter()
    deadline = started + seconds

    async def loop(offset: int, connection: Connection) -> None:
        due = started + offset * interval / connections
        while due < deadline:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await _timed(connection, request_for(next(numbers)), due, sample)
            due += interval

    try:
        await asyncio.gather(*(loop(i, c) for i, c in enumerate(pool)))
    finally:
        await _close(pool)
    sample.seconds = time.perf_counter() - started
    return sample


async def burst(host: str, port: int, requests: list[Request]) -> tuple[Sample, list[tuple[int, float]]]:
    """Open one connection per request, then send them all at once. Returns the sample and each
    answer's (status, seconds after the start)."""
    pool = await _connections(host, port, len(requests))
    sample = Sample()
    answers: list[tuple[int, float]] = []
    go = asyncio.Event()
    started = 0.0

    async def client(request: Request, connection: Connection) -> None:
        await go.wait()
        response = await _timed(connection, request, started, sample)
        if response is not None:
            answers.append((response.status, time.perf_counter() - started))

    tasks = [asyncio.create_task(client(r, c)) for r, c in zip(requests, pool, strict=True)]
    await asyncio.sleep(0)  # every client is waiting on the event
    started = time.perf_counter()
    go.set()
    try:
        await asyncio.gather(*tasks)
    finally:
        await _close(pool)
    sample.seconds = time.perf_counter() - started
    return sample, answers
