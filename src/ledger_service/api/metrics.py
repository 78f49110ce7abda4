"""Prometheus metrics of one app: requests and latencies by route, records appended, and the
anchoring queue read from the index at scrape time (pending, anchored, worker lag)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from ledger_service.api.logs import current_request_id, request_id_from
from ledger_service.context import LedgerContext
from ledger_service.index import models as m

__all__ = ["ApiMetrics"]

log = logging.getLogger("ledger_service.api")


class _QueueCollector(Collector):
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._context.session_factory() as s:
            pending = s.scalar(
                select(func.count()).select_from(m.OutboxEntry).where(m.OUTBOX_PENDING)
            )
            oldest = s.scalar(select(func.min(m.OutboxEntry.enqueued_at)).where(m.OUTBOX_PENDING))
            anchored = s.scalar(select(func.count()).select_from(m.RecordAnchor))
        yield GaugeMetricFamily(
            "ledger_records_pending", "Records waiting to be anchored", value=pending or 0
        )
        yield GaugeMetricFamily(
            "ledger_records_anchored", "Records assigned to a batch", value=anchored or 0
        )
        lag = 0.0 if oldest is None else (datetime.now(UTC) - oldest).total_seconds()
        yield GaugeMetricFamily(
            "ledger_anchoring_lag_seconds", "Age of the oldest pending record", value=lag
        )


class ApiMetrics:
    def __init__(self, context: LedgerContext) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ledger_api_requests",
            "API requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ledger_api_request_seconds",
            "API request latency by route",
            ["route"],
            registry=self.registry,
        )
        self.appended = Counter(
            "ledger_records_appended",
            "Records accepted by append requests (created, not replays)",
            registry=self.registry,
        )
        self.registry.register(_QueueCollector(context))

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        request_id = request_id_from(request.headers.get("x-request-id"))
        token = current_request_id.set(request_id)
        try:
            response = await call_next(request)
            route = request.scope.get("route")
            name = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            self.requests.labels(request.method, name, str(response.status_code)).inc()
            self.latency.labels(name).observe(elapsed)
            response.headers["X-Request-Id"] = request_id
            principal = getattr(request.state, "principal", None)
            log.info(
                "request",
                extra={
                    "fields": {
                        "method": request.method,
                        "route": name,
                        "status": response.status_code,
                        "ms": round(elapsed * 1000, 1),
                        "key_id": getattr(principal, "key_id", None),
                    }
                },
            )
            return response
        finally:
            current_request_id.reset(token)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
