"""Request limits: body size (before parsing) and a per-key rate (token bucket)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import ClassVar

from ledger_service.errors import LedgerError

__all__ = ["RateLimited", "RateLimiter"]


class RateLimited(LedgerError):
    """Too many requests from one API key (HTTP 429, with Retry-After)."""

    code: ClassVar[str] = "rate_limited"

    def __init__(self, key_id: str, retry_after: float) -> None:
        super().__init__(f"API key {key_id} is over its rate limit; retry in {retry_after:.1f}s")
        self.headers = {"Retry-After": str(max(1, round(retry_after)))}


class RateLimiter:
    """``rate`` requests per second per key, bursts up to ``burst``."""

    def __init__(
        self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate, self._burst, self._clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key_id: str) -> None:
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(self._burst), now))
            tokens = min(float(self._burst), tokens + (now - last) * self._rate)
            if tokens < 1:
                self._buckets[key_id] = (tokens, now)
                raise RateLimited(key_id, (1 - tokens) / self._rate)
            self._buckets[key_id] = (tokens - 1, now)
