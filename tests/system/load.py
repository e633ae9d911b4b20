"""Background load for fault tests: a few threads sending availability reads and booking attempts,
each answer recorded with when it was sent and answered, until told to stop (or a request cap)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
from attrs import define, field, frozen

REQUEST_TIMEOUT = 10.0
MAX_REQUESTS_PER_THREAD = 2000  # a bound, whatever happens to the stop signal
PAUSE_SECONDS = 0.02


@frozen
class Answer:
    kind: str
    sent: float  # time.monotonic()
    answered: float
    status: int  # 0: no HTTP answer at all
    body: str


@define
class Load:
    base_url: str
    slots: list[tuple[str, str]]
    answers: list[Answer] = field(factory=list)
    stopping: threading.Event = field(factory=threading.Event)
    serial: itertools.count[int] = field(factory=itertools.count)

    def _one(self, client: httpx.Client, number: int) -> Answer:
        practitioner, start = self.slots[number % len(self.slots)]
        sent = time.monotonic()
        try:
            if number % 3:
                kind = "availability"
                response = client.get(f"/api/practitioners/{practitioner}/availability")
            else:
                kind = "booking"
                serial = next(self.serial)
                body = {
                    "practitioner_id": practitioner,
                    "start": start,
                    "name": f"Load Client {serial}",
                    "email": f"load-{serial}@example.com",
                    "phone": "+1 415 555 2671",
                }
                response = client.post("/api/bookings", json=body)
        except httpx.TransportError as error:
            return Answer("transport", sent, time.monotonic(), 0, type(error).__name__)
        return Answer(kind, sent, time.monotonic(), response.status_code, response.text[:500])

    def run(self, offset: int) -> None:
        fresh = httpx.Limits(max_keepalive_connections=0)  # each request may land on either worker
        with httpx.Client(base_url=self.base_url, timeout=REQUEST_TIMEOUT, limits=fresh) as client:
            for number in range(offset, offset + MAX_REQUESTS_PER_THREAD):
                if self.stopping.is_set():
                    return
                self.answers.append(self._one(client, number))
                time.sleep(PAUSE_SECONDS)

    def between(self, start: float, end: float) -> list[Answer]:
        """Answers to requests sent after `start` and answered before `end`."""
        return [a for a in self.answers if a.sent >= start and a.answered <= end]


@contextmanager
def background_load(base_url: str, slots: list[tuple[str, str]], threads: int = 3) -> Iterator[Load]:
    load = Load(base_url, slots)
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(load.run, n * MAX_REQUESTS_PER_THREAD) for n in range(threads)]
        try:
            yield load
        finally:
            load.stopping.set()
            for future in futures:
                future.result(timeout=REQUEST_TIMEOUT * 3)
