"""When and how long to wait before sending a request again.

Retrying is safe for every call the client makes: reads change nothing (an evidence or
lineage read may leave a second access-log entry, which is the truth: it was asked twice),
and an append is idempotent because a record id is its idempotency key — a chunk the
service had already committed before the connection broke is answered ``existing`` the
second time, never written twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

__all__ = ["RETRY_STATUSES", "RetryPolicy"]

#: Answers worth another attempt: over the rate limit, and the service failing.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """``attempts`` tries in all (1 = no retry); exponential backoff from ``backoff``
    seconds, doubled each time up to ``max_backoff``, with ±25 % jitter; a 429's
    ``Retry-After`` is honoured (up to ``max_retry_after``)."""

    attempts: int = 6
    backoff: float = 0.25
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if self.backoff < 0 or self.max_backoff < 0 or self.max_retry_after < 0:
            raise ValueError("backoff, max_backoff and max_retry_after must not be negative")

    def retries_status(self, status: int) -> bool:
        return status in RETRY_STATUSES

    @staticmethod
    def retries_exception(exc: Exception) -> bool:
        """Connection refused/reset, timeouts, broken answers; not a malformed URL."""
        return isinstance(exc, httpx.TransportError) and not isinstance(
            exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError
        )

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        base = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        jitter: float = random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not a secret
        return base * jitter
