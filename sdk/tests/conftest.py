"""Fixtures of the SDK's tests: the service's app in-process over a fresh SQLite index built
through ``LedgerContext`` (a test-only use of the service; the SDK itself never imports it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sdk_testutil import InProcessLedger, in_process_ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[InProcessLedger]:
    with in_process_ledger(tmp_path) as ledger:
        yield ledger
