"""The `make up` demo: a few enterprises' stories written, anchored and ready to verify."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from pathlib import Path

from nacl.signing import SigningKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.index import models as m
from ledger_service.sample_data import SampleWriter, enterprise_story
from ledger_service.service import AppendResult, LedgerService

DEMO_ENTERPRISES = 4
DEMO_ACTOR = "demo-platform-writer"


def demo_writer(state_dir: Path) -> SampleWriter:
    """The demo writer's key, made once and kept (mode 0600) in the state directory, so a
    second `make up` replays identical signed records (idempotent)."""
    path = state_dir / "demo-writer.key"
    if path.exists():
        key = SigningKey(base64.b64decode(path.read_bytes()))
    else:
        key = SigningKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64encode(bytes(key)))
    return SampleWriter(actor=DEMO_ACTOR, signing_key=key)


def write_demo(service: LedgerService, writer: SampleWriter) -> list[AppendResult]:
    service.register_writer(writer.actor, writer.public_key)
    # Record ids carry the writer key's fingerprint: the chain outlives a wiped index, and a
    # new demo key must not collide with ids the channel already holds.
    prefix = "demo-" + hashlib.sha256(writer.public_key).hexdigest()[:6]
    records = [
        r for n in range(DEMO_ENTERPRISES) for r in enterprise_story(writer, n, prefix=prefix)
    ]
    return service.append(records)


def wait_anchored(
    sessions: sessionmaker[Session], record_ids: list[str], *, timeout: float
) -> dict[str, tuple[str, str, int]]:
    """Until every record sits in a committed batch: record → (batch, tx id, block)."""
    deadline = time.monotonic() + timeout
    while True:
        with sessions() as s:
            rows = s.execute(
                select(
                    m.RecordAnchor.record_id, m.Batch.batch_id, m.Batch.tx_id, m.Batch.block_number
                )
                .join(m.Batch, m.Batch.batch_id == m.RecordAnchor.batch_id)
                .where(m.RecordAnchor.record_id.in_(record_ids), m.Batch.state == "committed")
            ).all()
            failed = s.execute(
                select(m.Batch.batch_id, m.Batch.failure_reason)
                .join(m.RecordAnchor, m.RecordAnchor.batch_id == m.Batch.batch_id)
                .where(m.RecordAnchor.record_id.in_(record_ids), m.Batch.state == "failed")
                .limit(1)
            ).first()
        if failed is not None:
            raise RuntimeError(f"batch {failed.batch_id} failed: {failed.failure_reason}")
        found = {r.record_id: (r.batch_id, r.tx_id or "", r.block_number or 0) for r in rows}
        if len(found) == len(record_ids):
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{len(record_ids) - len(found)} of {len(record_ids)} demo records not anchored "
                f"within {timeout:.0f}s: is the worker running? (`ledgerctl service status`)"
            )
        time.sleep(0.2)
