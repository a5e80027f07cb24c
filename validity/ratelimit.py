"""In-process token bucket per client, for the public lookup.

In-process is enough for one `wif serve` process (waitress is threaded, not
forked); several instances behind a load balancer would each allow the
configured rate, which is acceptable for a brake on enumeration.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Past this many tracked clients, buckets that have refilled completely are
# dropped: they are equivalent to a new bucket, so forgetting them is exact.
MAX_TRACKED_CLIENTS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic):
        if per_minute < 1 or burst < 1:
            raise ValueError("per_minute and burst must be at least 1")
        self.rate_per_second = per_minute / 60.0
        self.capacity = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        return min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate_per_second)

    def _forget_full_buckets(self, now: float) -> None:
        full = [key for key, bucket in self._buckets.items() if self._refilled(bucket, now) >= self.capacity]
        for key in full:
            del self._buckets[key]

    def acquire(self, client: str) -> float:
        """Take one token for `client`. Returns 0 when allowed, otherwise the
        seconds to wait before the next token (for Retry-After)."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(client)
            if bucket is None:
                if len(self._buckets) >= MAX_TRACKED_CLIENTS:
                    self._forget_full_buckets(now)
                if len(self._buckets) >= MAX_TRACKED_CLIENTS:
                    # Memory stays bounded under a spread-out flood; the
                    # evicted client merely gets a fresh bucket.
                    oldest = min(self._buckets, key=lambda key: self._buckets[key].updated)
                    del self._buckets[oldest]
                bucket = self._buckets[client] = _Bucket(self.capacity, now)
            bucket.tokens = self._refilled(bucket, now)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate_per_second

    def tracked_clients(self) -> int:
        with self._lock:
            return len(self._buckets)
