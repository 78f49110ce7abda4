"""Prometheus metrics of one app: requests and latencies by route (observed by
:mod:`ledger_service.api.middleware`), records appended, and the anchoring queue read from the
index at scrape time (pending, anchored, worker lag)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from ledger_service.context import LedgerContext
from ledger_service.index import models as m

__all__ = ["ApiMetrics"]


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

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
