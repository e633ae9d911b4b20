"""Rate limits that hold across workers and hosts: the `limits` library's sliding window counters,
kept in Redis when REDIS_URL is set (every worker on every host counts in the same keys), else in
this process's memory (one worker, or a limit per worker).

If Redis cannot be reached the limits fall back to this process's memory, with a warning logged
once per outage, and Redis is tried again after `RETRY_REDIS_SECONDS`: a Redis outage loosens the
limits to what one worker enforces, it never refuses bookings (PostgreSQL alone decides those) nor
lets a worker answer without any limit."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import redis.asyncio
import redis.exceptions
from attrs import frozen
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

log = logging.getLogger(__name__)

RETRY_REDIS_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.5  # a request waits at most this long for a Redis that stopped answering


@frozen
class Limit:
    """`amount` requests per key and `seconds`; `name` keeps each limit's keys apart."""

    name: str
    amount: int
    seconds: int

    def item(self) -> RateLimitItem:
        return RateLimitItemPerSecond(self.amount, self.seconds, namespace=self.name)


class RateLimits:
    """Counts requests per limit and key (a client address, a hash of an e-mail address, ...)."""

    def __init__(
        self,
        redis_url: str | None = None,
        key_prefix: str = "booking",
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._local = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._pool: redis.asyncio.ConnectionPool | None = None
        self._shared: SlidingWindowCounterRateLimiter | None = None
        self._redis_down_until = 0.0  # clock time; 0: Redis (if any) is believed up
        if redis_url is not None:
            self._pool = redis.asyncio.ConnectionPool.from_url(
                redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                key_prefix=f"{key_prefix}:limits",
                wrap_exceptions=True,
                connection_pool=self._pool,  # type: ignore[arg-type]  # passed on to redis.asyncio.Redis
            )
            self._shared = SlidingWindowCounterRateLimiter(storage)

    @property
    def shared(self) -> bool:
        """Whether the counts live in Redis (and so hold across workers and hosts)."""
        return self._shared is not None

    async def seconds_until_allowed(self, limit: Limit, key: str) -> float:
        """Count one request for `key`: 0 if it is within `limit`, else how long until one is."""
        item = limit.item()
        if self._shared is None or self._clock() < self._redis_down_until:
            return await _count(self._local, item, key)
        try:
            wait = await _count(self._shared, item, key)
        except (StorageError, redis.exceptions.RedisError) as error:
            self._redis_failed(error)
            return await _count(self._local, item, key)
        if self._redis_down_until:
            log.info("rate limits: Redis answers again; counting there")
            self._redis_down_until = 0.0
        return wait

    def _redis_failed(self, error: Exception) -> None:
        cause = error.storage_error if isinstance(error, StorageError) else error
        if not self._redis_down_until:  # once per outage, not on every retry
            log.warning(
                "rate limits: Redis unreachable (%s: %s); counting in this worker's memory, "
                "trying Redis again every %.0f s",
                type(cause).__name__,
                cause,
                RETRY_REDIS_SECONDS,
            )
        self._redis_down_until = self._clock() + RETRY_REDIS_SECONDS

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


async def _count(limiter: SlidingWindowCounterRateLimiter, item: RateLimitItem, key: str) -> float:
    if await limiter.hit(item, key):
        return 0.0
    reset_at, _ = await limiter.get_window_stats(item, key)
    return max(1.0, reset_at - time.time())  # the library's clock is the wall clock


def retry_after(seconds: float) -> int:
    """A Retry-After header's whole seconds, never 0 for a refusal."""
    return max(1, math.ceil(seconds))
