"""SIGKILL the API server during a bulk append from the SDK, restart it on the same port: the
SDK's retries finish the append, every record it acknowledged is in the index exactly once
with the commitment it was told, the whole set is there, and after anchoring each is written
on chain exactly once (judged from the channel's blocks, not the index)."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from credit_ledger_client import AppendProgress, Client, RetryPolicy, Writer
from credit_ledger_verify.records import Record
from sqlalchemy import func, select

from ledger_service.api import ApiKeys
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.index import models as m
from ledger_service.index import sqlite_url
from ledger_service.ops.topology import Topology
from ledger_service.samples.data import EPOCH, SampleWriter, enterprise_code
from ledger_service.samples.ledger import AnchoredLedger
from tests.integration.api_process import ApiProcess, free_port
from tests.integration.test_anchoring_crash import _chain_height, _valid_record_writes

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(600)]

RECORDS = 3000
CHUNK = 150


def signed_data_updates(writer: Writer, count: int, *, prefix: str) -> list[Record]:
    return [
        writer.build(
            "data_update",
            record_id=f"{prefix}-{n:06d}",
            subject=enterprise_code(n % 500),
            occurred_at=EPOCH + dt.timedelta(seconds=n),
            source="state-tax-bureau",
            payload={
                "dataset": "tax",
                "fields_changed": {"vat_paid_2025": f"{1000 + n}.00"},
                "source_reference": f"STB-{n:07d}",
            },
        )
        for n in range(count)
    ]


@pytest.fixture
def setting(
    fabric_network: Topology, tmp_path: Path
) -> Iterator[tuple[LedgerContext, ApiProcess, str, Writer]]:
    config = ServiceConfig(state_dir=Path(fabric_network.state_dir), db_url=sqlite_url(tmp_path))
    context = LedgerContext(config, topology=fabric_network)
    writer = Writer(f"sdk-fault-{os.getpid()}", os.urandom(32))
    context.intake.register_writer(writer.actor, writer.public_key)
    token = ApiKeys(context.session_factory).create(
        role="writer", org="platform", name="sdk-fault", actors=[writer.actor]
    )[1]
    env = {**os.environ, "LEDGER_STATE_DIR": str(config.state_dir), "LEDGER_DB_URL": config.db_url}
    api = ApiProcess(free_port(), tmp_path / "api.log", env=env)
    api.start()
    try:
        yield context, api, token, writer
    finally:
        api.stop()
        context.close()


def test_sigkill_mid_bulk_append_then_restart_loses_nothing_and_writes_nothing_twice(
    setting: tuple[LedgerContext, ApiProcess, str, Writer],
) -> None:
    context, api, token, writer = setting
    prefix = f"f{uuid.uuid4().hex[:8]}"
    records = signed_data_updates(writer, RECORDS, prefix=prefix)
    acknowledged: list[AppendProgress] = []
    killed = threading.Event()

    def kill_then_restart() -> None:
        # a chunk is in flight 30 ms after the 4th acknowledgement: kill the server under it
        time.sleep(0.03)
        api.kill()
        killed.set()
        time.sleep(1.5)  # the SDK meets refused connections meanwhile
        api.start()

    restarter = threading.Thread(target=kill_then_restart)

    def progress(update: AppendProgress) -> None:
        acknowledged.append(update)
        if len(acknowledged) == 4:
            restarter.start()

    policy = RetryPolicy(attempts=40, backoff=0.1, max_backoff=1.0)
    started = time.monotonic()
    with Client(base_url=api.url, api_key=token, retries=policy, timeout=60) as client:
        results = client.append(records, chunk_size=CHUNK, progress=progress)
    restarter.join(timeout=90)
    assert killed.is_set()
    assert api.starts == 2
    assert time.monotonic() - started < 300

    # every record acknowledged, in order, and the progress reports add up
    assert [r.record_id for r in results] == [r.record_id for r in records]
    assert acknowledged[-1].done == RECORDS
    assert sum(len(p.chunk) for p in acknowledged) == RECORDS

    # the index holds each exactly once, with the commitment the SDK was told
    told = {r.record_id: r.commitment for r in results}
    with context.session_factory() as s:
        rows = s.execute(
            select(m.Record.record_id, m.Record.commitment).where(
                m.Record.record_id.startswith(prefix)
            )
        ).all()
        queued = s.scalar(
            select(func.count())
            .select_from(m.OutboxEntry)
            .where(m.OutboxEntry.record_id.startswith(prefix))
        )
    assert len(rows) == RECORDS
    assert queued == RECORDS
    assert {rid: bytes(c).hex() for rid, c in rows} == told

    # after anchoring, the chain holds each exactly once
    target = context.fabric_target
    first_block = _chain_height(target)
    AnchoredLedger(context=context, writer=SampleWriter(), records=[]).anchor(batch_size=1000)
    writes = _valid_record_writes(target, first_block, {c: rid for rid, c in told.items()})
    assert set(writes) == set(told), f"{len(set(told) - set(writes))} record(s) not on chain"
    twice = {rid: n for rid, n in writes.items() if n != 1}
    assert not twice, f"records written on chain more than once: {twice}"
