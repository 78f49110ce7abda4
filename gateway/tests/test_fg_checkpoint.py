from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fabric_gateway import ChaincodeEvent, FileCheckpointer, InMemoryCheckpointer
from fabric_gateway.events import resume_position
from hypothesis import given, settings
from hypothesis import strategies as st


def test_in_memory_checkpointer() -> None:
    c = InMemoryCheckpointer()
    assert (c.block_number, c.transaction_id) == (None, None)
    assert resume_position(7, c) == (7, None)
    c.checkpoint_block(10)
    assert (c.block_number, c.transaction_id) == (11, None)
    c.checkpoint_chaincode_event(
        ChaincodeEvent(
            block_number=12, transaction_id="t", chaincode_name="cc", event_name="e", payload=b""
        )
    )
    assert (c.block_number, c.transaction_id) == (12, "t")
    assert resume_position(0, c) == (12, "t")
    assert resume_position(None, None) == (None, None)


def test_file_checkpointer_persists_and_resumes(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "cp.json"
    c = FileCheckpointer(path)
    assert c.block_number is None
    c.checkpoint_transaction(5, "tx5")
    assert json.loads(path.read_text()) == {"blockNumber": 5, "transactionId": "tx5"}
    again = FileCheckpointer(path)
    assert (again.block_number, again.transaction_id) == (5, "tx5")
    again.checkpoint_block(5)
    third = FileCheckpointer(path)
    assert (third.block_number, third.transaction_id) == (6, None)
    assert sorted(p.name for p in path.parent.iterdir()) == ["cp.json"]  # no temp files left


def test_file_checkpointer_crash_during_write_keeps_previous(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cp.json"
    c = FileCheckpointer(path)
    c.checkpoint_transaction(3, "a")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        c.checkpoint_transaction(4, "b")
    monkeypatch.undo()
    restored = FileCheckpointer(path)
    assert (restored.block_number, restored.transaction_id) == (3, "a")
    assert [p.name for p in tmp_path.iterdir()] == ["cp.json"]


def test_file_checkpointer_rejects_garbage(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    path.write_text('{"blockNumber": -1}')
    with pytest.raises(ValueError, match="blockNumber"):
        FileCheckpointer(path)


Event = tuple[int, str]


@settings(max_examples=200, deadline=None)
@given(
    chain=st.lists(st.lists(st.integers(0, 10**6), max_size=4), min_size=1, max_size=12).map(
        lambda blocks: [[(n, f"tx{n}-{i}") for i, _ in enumerate(b)] for n, b in enumerate(blocks)]
    ),
    crashes=st.lists(st.tuples(st.integers(0, 40), st.booleans()), max_size=5),
)
def test_resume_has_no_gap_and_no_duplicate(
    tmp_path_factory: pytest.TempPathFactory,
    chain: list[list[Event]],
    crashes: list[tuple[int, bool]],
) -> None:
    """Model of the gateway's resume rule over a chain of events; a listener crashes after
    processing k events, before or after checkpointing the last one. Checkpointed events are
    delivered exactly once; at most the one event processed but not yet checkpointed repeats."""
    events = [e for b in chain for e in b]
    path = tmp_path_factory.mktemp("cp") / "cp.json"

    def stream(start: int | None, after: str | None) -> list[Event]:
        start = 0 if start is None else start
        out = [e for e in events if e[0] >= start]
        if after is not None:
            ids = [e[1] for e in out if e[0] == start]
            if after in ids:
                out = out[out.index((start, after)) + 1 :]
        return out

    committed: list[Event] = []
    processed: list[Event] = []
    for budget, checkpoint_last in [*crashes, (10**9, True)]:
        cp = FileCheckpointer(path, sync=False)
        start, after = resume_position(None, cp)
        for i, event in enumerate(stream(start, after)):
            if i >= budget:
                break
            processed.append(event)
            last = i == budget - 1
            if not last or checkpoint_last:
                cp.checkpoint_transaction(*event)
                committed.append(event)
    assert committed == events  # every event checkpointed exactly once, in order
    assert set(processed) == set(events)
    assert len(processed) - len(events) <= len(crashes)  # re-delivery only of un-checkpointed
