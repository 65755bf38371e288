"""Rate limits per client: a token bucket per key (a principal, or the username a sign-in names).

A bucket holds up to `burst` requests and refills at `per_second`. Twenty lines do it; the
libraries that offer it bring storage back ends a single process does not need. Limits are per
process: behind several processes, each keeps its own.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """How many requests a client may make: `burst` at once, then `per_second` sustained."""

    per_second: float
    burst: int


class RateLimiter:
    """Answers whether a client may make one more request, or how long it must wait."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when counted)
        self._lock = threading.Lock()

    def wait_s(self, key: str) -> int:
        """0 if the request may go ahead (and counts it); else whole seconds until one may."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.rate.burst), now))
            tokens = min(float(self.rate.burst), tokens + (now - then) * self.rate.per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > 100_000:  # noqa: PLR2004 - a bound on memory, not a tuning figure
                self._buckets.clear()
        return max(1, math.ceil((1 - tokens) / self.rate.per_second))
