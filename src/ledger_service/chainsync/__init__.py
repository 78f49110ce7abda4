"""The index's view of the chain: replay the channel into a mirror, restore, reconcile.

* :func:`replay` — stream the channel's blocks (Deliver service) into the mirror tables
  ``chain_batches`` / ``chain_records`` / ``chain_sync`` (index/chain_models.py), resumable
  and idempotent; with ``restore=True`` also fill the index's missing anchoring facts
  (``ledgerctl index rebuild``).
* :func:`reconcile` — compare the index with the mirror and list every mismatch by record
  (``ledgerctl index reconcile``).
* :mod:`.parse` — pure decoding of the chaincode's key/value layout from blocks.
"""

from ledger_service.chainsync.mirror import MirrorGapError, SyncState, read_sync_state
from ledger_service.chainsync.parse import ChainIntegrityError, ChainLayoutError, extract_block
from ledger_service.chainsync.replay import ReplayProgress, ReplayResult, replay
from ledger_service.chainsync.restore import RestoreStats, restore_index_facts
from ledger_service.chainsync.source import BlockSource, DeliverBlockSource, chain_height

__all__ = [
    "BlockSource",
    "ChainIntegrityError",
    "ChainLayoutError",
    "DeliverBlockSource",
    "MirrorGapError",
    "ReplayProgress",
    "ReplayResult",
    "RestoreStats",
    "SyncState",
    "chain_height",
    "extract_block",
    "read_sync_state",
    "replay",
    "restore_index_facts",
]
