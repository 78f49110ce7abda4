"""The index's view of the chain: replay the channel into a mirror, restore, reconcile.

* :func:`replay` — stream the channel's blocks (one Deliver stream, up to the height read at
  the start) into the mirror tables ``chain_batches`` / ``chain_records`` / ``chain_sync``
  (index/chain_models.py): only VALID endorser transactions, only the ledger chaincode's
  namespace; resumable (one transaction per block range, with its checkpoint) and
  idempotent (upserts). With ``restore=True`` it also fills the index's missing anchoring
  facts (``ledgerctl index rebuild``).
* :func:`~.reconcile.reconcile` — compare the index with the mirror and list every mismatch
  by record (``ledgerctl index reconcile``).
* :mod:`.parse` — finds the ledger chaincode's writes in blocks and turns them into mirror
  rows (keys and values decoded by :mod:`credit_ledger_verify.onchain`).

What a rebuild restores, and what it cannot
-------------------------------------------

The chain holds, per batch, its id, Merkle root, size, creator MSP, transaction id and
timestamp (and the block that holds it, and the signed transaction itself); per record, its
salted commitment (the state key — never the record id), batch and leaf index. The mirror
knows records by commitment; restore and reconcile join them to the index's records on
``records.commitment``. So for every record **the index still has** (the ``records`` row), a
rebuild restores:

* ``batches``: id, root, size, state ``committed``, tx id, block number, validation code,
  and ``envelope`` (the committed transaction, in the worker's ``PreparedTransaction``
  form, with the submitter's signature); timestamps become the transaction timestamp and
  ``submit_attempts`` 0 (the worker's own clock readings and retry counts are not on
  chain). A batch left ``pending``/``submitted`` that the chain has committed becomes
  ``committed``;
* ``record_anchors`` (batch, leaf index) and ``anchoring_outbox`` (``batched``);
* records that are neither anchored nor on the chain are queued for anchoring again
  (``pending``) once the mirror covers the channel from block 0.

It cannot restore anything that exists only off chain: record content and salts (the chain
has only SHA-256(salt ‖ content) — by design, so erasure by crypto-shredding works), the
record rows themselves and their envelope columns (kind, subject, times, actor…), lineage
edges, corrections/disputes, writer keys, the access log. A record whose row is lost is
reported by reconcile as ``missing_from_index``, named by its commitment (its batch and
position are in the mirror; its record id never was on chain), but it cannot be brought back
without the off-chain copy. Existing facts that contradict the chain are never overwritten:
they are reported by reconcile.
"""

from ledger_service.chainsync.mirror import MirrorGapError, SyncState, read_sync_state
from ledger_service.chainsync.parse import ChainIntegrityError, extract_block
from ledger_service.chainsync.replay import ReplayProgress, ReplayResult, replay
from ledger_service.chainsync.restore import RestoreStats, restore_index_facts

__all__ = [
    "ChainIntegrityError",
    "MirrorGapError",
    "ReplayProgress",
    "ReplayResult",
    "RestoreStats",
    "SyncState",
    "extract_block",
    "read_sync_state",
    "replay",
    "restore_index_facts",
]
