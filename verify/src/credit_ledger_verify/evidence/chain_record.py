"""What a transaction's write set says about one record (step 3, and the batch root step 2
checks against): the record key's value, the batch key's root and size.

The on-chain layout itself (keys, values) is :mod:`credit_ledger_verify.onchain`'s; this module
compares the chain's bytes with the bundle's claims and explains any difference. The record's
key is its commitment, which step 1 binds to the content and salt.
"""

from __future__ import annotations

from dataclasses import dataclass

from credit_ledger_verify.evidence.bundle import RecordEntry
from credit_ledger_verify.evidence.fabric_checks import ChainBatch, TxCheck
from credit_ledger_verify.evidence.model import short_hex
from credit_ledger_verify.onchain import (
    OnChainFormatError,
    RecordValue,
    decode_record_value,
    record_key,
)

__all__ = ["OnChain", "read_chain_record"]


@dataclass(slots=True)
class OnChain:
    """What the transaction's write set says about a record: step 3's verdict and the batch
    root/size step 2 checks against (``None``: no batch to check against)."""

    problem: str | None
    batch: ChainBatch | None
    detail: str = ""


def read_chain_record(e: RecordEntry, tx: TxCheck, pinned: str | None) -> OnChain:
    """Read the record and batch keys of ``e`` from the transaction's write set
    (``pinned``: the chaincode the trust store requires, if any)."""
    if pinned is not None and e.chaincode != pinned:
        return OnChain(f"chaincode {e.chaincode!r} is not the trusted {pinned!r}", None)
    if tx.chaincode != e.chaincode:
        return OnChain(
            f"the transaction invokes chaincode {tx.chaincode!r}, not {e.chaincode!r}", None
        )
    if tx.response_status != 200:
        return OnChain(f"the chaincode response status is {tx.response_status}", None)
    if tx.repeated_namespace is not None:
        return OnChain(
            f"the read-write set of tx {short_hex(e.tx_id)} names namespace "
            f"{tx.repeated_namespace!r} twice",
            None,
        )
    writes = tx.writes(e.chaincode)
    if writes is None:
        return OnChain(f"the transaction writes nothing in namespace {e.chaincode!r}", None)
    if writes.repeated is not None:
        return OnChain(
            f"the write set of tx {short_hex(e.tx_id)} writes key {writes.repeated!r} "
            "more than once",
            None,
        )
    write = writes.get(record_key(bytes.fromhex(e.commitment)))
    if write is None or write.is_delete:
        # No record on chain in this transaction: no batch root to check the proof against.
        return OnChain(f"the write set of tx {short_hex(e.tx_id)} has no key for the record", None)
    try:
        chain_record: RecordValue | None = decode_record_value(write.value)
    except OnChainFormatError:
        chain_record = None
    if chain_record != (e.leaf_index, e.batch_id):
        mismatch, chain_batch_id = _record_value_mismatch(e, write.value)
        chain_batch = None
        if chain_batch_id is not None:
            found = tx.batch(e.chaincode, chain_batch_id)
            chain_batch = found if isinstance(found, ChainBatch) else None
        return OnChain(mismatch, chain_batch)
    batch = tx.batch(e.chaincode, e.batch_id)
    if isinstance(batch, str):
        return OnChain(batch, None)
    detail = (
        f"record key -> commitment {short_hex(e.commitment)}, batch {e.batch_id!r}, "
        f"leaf {e.leaf_index}; batch key -> root {short_hex(batch.root)}, size {batch.size}"
    )
    return OnChain(None, batch, detail)


def _record_value_mismatch(e: RecordEntry, value: bytes) -> tuple[str, str | None]:
    """Why the record key's value differs from the bundle's claims, and the batch id the
    chain names for the record (``None`` if unreadable)."""
    try:
        leaf_index, named = decode_record_value(value)
    except OnChainFormatError as exc:
        return f"the record key's value on chain is not in the record layout: {exc}", None
    if named != e.batch_id:
        why = f"chain batch id {named!r} != bundle batch id {e.batch_id!r}"
    else:
        why = f"chain leaf index {leaf_index} != bundle leaf index {e.leaf_index}"
    return why, named
