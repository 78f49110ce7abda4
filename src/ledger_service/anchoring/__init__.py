"""Anchoring: pending records → RFC 6962 Merkle batches → one Fabric transaction per batch."""

from ledger_service.anchoring.store import AnchoringStore, BatchPlan
from ledger_service.anchoring.worker import AnchoringWorker, WorkerSettings, WorkerStats

__all__ = ["AnchoringStore", "AnchoringWorker", "BatchPlan", "WorkerSettings", "WorkerStats"]
