"""A token bucket per client address on the routes that create bookings and on the calendar feeds
(per process: with N workers the effective limit is up to N times higher; put a proxy limit in
front for more). The sign-in form takes its buckets too (booking_web/sign_in.py)."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

from attrs import define, field
from cachetools import TTLCache
from starlette.types import ASGIApp, Receive, Scope, Send

from booking_web.converter import json_response
from booking_web.errors import RateLimited, error_body

MAX_TRACKED_ADDRESSES = 10_000  # least recently seen forgotten beyond this


@define
class _Bucket:
    tokens: float
    updated: float


@define
class TokenBuckets:
    """`limit` requests per key (a client address, ...) and `window_seconds` (a minute unless
    said), refilled continuously, bursts up to `limit`."""

    limit: int
    clock: Callable[[], float] = time.monotonic
    max_addresses: int = MAX_TRACKED_ADDRESSES
    window_seconds: float = 60.0
    _buckets: TTLCache[str, _Bucket] = field(init=False)

    @_buckets.default
    def _forgetting_full_buckets(self) -> TTLCache[str, _Bucket]:
        # A bucket unseen for a window has refilled: forgetting it then changes nothing.
        return TTLCache(self.max_addresses, self.window_seconds, timer=self.clock)

    def seconds_until_allowed(self, address: str) -> float:
        """Take a token for `address`: 0 if allowed, else how long until one is free."""
        now = self.clock()
        rate = self.limit / self.window_seconds
        bucket = self._buckets.get(address) or _Bucket(float(self.limit), now)
        bucket.tokens = min(self.limit, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        self._buckets[address] = bucket  # set again: its window and its place in the order start now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate


class RateLimitMiddleware:
    """Limits `method` requests to `paths` per client address; `what` names them in the refusal."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        buckets: TokenBuckets,
        paths: tuple[str, ...],
        method: str = "POST",
        what: str = "booking attempts",
    ) -> None:
        self.app = app
        self.buckets = buckets
        self.paths = re.compile("|".join(f"(?:{p})" for p in paths))
        self.method = method
        self.what = what

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == self.method and self.paths.fullmatch(scope["path"]):
            address = scope["client"][0] if scope.get("client") else "unknown"
            wait = self.buckets.seconds_until_allowed(address)
            if wait:
                retry_after = math.ceil(wait)
                message = f"Too many {self.what}. Please wait {retry_after} seconds and try again."
                response = json_response(
                    error_body(RateLimited.code, message), 429, headers={"Retry-After": str(retry_after)}
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
