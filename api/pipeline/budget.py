"""Rate-limit budgets per client address, shared through Redis in batches, so that a request
under a large limit (`RATE_LIMIT_DEFAULT`) does not pay a Redis round trip of its own.

Fixed windows, as flask-limiter (which this replaces) counted them. Each worker counts its
hits locally and adds them to the window's shared counter (one INCRBY + EXPIRE, one round trip)
every `batch` hits, or at once when what it knows of the total says the budget is spent, and
then decides by the exact total. The batch is a hundredth of the limit (at most 32, at least 1,
so a small limit is counted exactly): each worker process can let through at most `batch - 1`
requests beyond the limit before it learns the total, about 1% of the limit per process.
Measured under load (`make bench`), the per-request INCR was a quarter of a cached read's time.

The login and registration limits (10 a minute) are small, so their batch is 1: each attempt
is counted in Redis before it is let through (api/pipeline/ratelimit.py). Without Redis (`make run`)
the budget is counted in the worker's memory. A Redis failure lets requests through and counts them locally until
Redis answers again (`BREAK_SECONDS` later at the earliest).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import cache

import redis
from limits import RateLimitItem, parse

log = logging.getLogger(__name__)

KEY_PREFIX = "conduit:budget:"
MAX_BATCH = 32
BREAK_SECONDS = 5.0


@cache
def parsed(limit: str) -> RateLimitItem:
    return parse(limit)


def batch_for(limit: RateLimitItem) -> int:
    return max(1, min(MAX_BATCH, limit.amount // 100))


@dataclass(slots=True)
class _Count:
    pending: int = 0  # hits of this worker not yet added to the shared total
    known: int = 0  # the shared total when this worker last added to it


class Budget:
    """Hits per client address in fixed windows; `hit` says whether the request may go on."""

    def __init__(self, redis_url: str | None) -> None:
        self.client = (
            redis.Redis.from_url(
                redis_url, socket_connect_timeout=0.05, socket_timeout=0.1, retry_on_timeout=False
            )
            if redis_url
            else None
        )
        # Per limit: the current window and each address's count in it (older windows go).
        self.windows: dict[str, tuple[int, dict[str, _Count]]] = {}
        self.broken_until = 0.0
        self.lock = threading.Lock()  # `make run` serves requests in threads

    def hit(
        self, address: str, limit: RateLimitItem, now: float | None = None, scope: str = "default"
    ) -> int | None:
        """None when the request is within `scope`'s budget, else the seconds until it renews."""
        moment = time.time() if now is None else now
        period = limit.get_expiry()
        window = int(moment // period)
        renews_in = max(1, math.ceil((window + 1) * period - moment))
        with self.lock:
            name = f"{scope}:{limit}"
            current = self.windows.get(name)
            if current is None or current[0] != window:
                current = self.windows[name] = (window, {})
            counts = current[1]
            count = counts.get(address)
            if count is None:
                count = counts[address] = _Count()
            count.pending += 1
            if count.known >= limit.amount:  # spent: the total only grows until the window ends
                return renews_in
            if count.pending >= batch_for(limit) or count.known + count.pending > limit.amount:
                self._add(count, f"{name}:{window}:{address}", period)
            if count.known + count.pending <= limit.amount:
                return None
        return renews_in

    def _add(self, count: _Count, key: str, period: int) -> None:
        """Add this worker's pending hits to the shared total and learn it."""
        if self.client is None or time.monotonic() < self.broken_until:
            count.known += count.pending  # counted here only
            count.pending = 0
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.incrby(KEY_PREFIX + key, count.pending)
            pipe.expire(KEY_PREFIX + key, period + 1, nx=True)
            total, _ = pipe.execute()
        except redis.RedisError as error:
            self.broken_until = time.monotonic() + BREAK_SECONDS
            log.warning("rate-limit budget counted per worker for %.0fs: %s", BREAK_SECONDS, error)
            count.known += count.pending
        else:
            count.known = int(total)
        count.pending = 0
