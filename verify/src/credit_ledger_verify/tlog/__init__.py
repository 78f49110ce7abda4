"""The transparency log's pure core: checkpoints, cosignatures, the witness's decision.

Network-free and storage-free, for the platform's log and a bank's or regulator's
verifier alike (docs/transparency.md says what exists and what issue 13 adds later):

- RFC 6962 consistency proofs: :func:`credit_ledger_verify.merkle.verify_consistency` and
  :meth:`credit_ledger_verify.merkle.MerkleTree.consistency_proof` (re-exported here);
- :mod:`.note` — C2SP signed notes and Ed25519 note keys;
- :mod:`.checkpoint` — C2SP checkpoints, signing, verification under a key policy;
- :mod:`.cosignature` — timestamped Ed25519 cosignatures (tlog-cosignature v1);
- :mod:`.witness` — accept / refuse / alarm on an add-checkpoint request.
"""

from credit_ledger_verify.merkle import MerkleTree, build_tree, verify_consistency
from credit_ledger_verify.tlog.checkpoint import (
    Checkpoint,
    CheckpointPolicy,
    VerifiedCheckpoint,
    log_origin,
    parse_checkpoint_text,
    sign_checkpoint,
    verify_checkpoint,
)
from credit_ledger_verify.tlog.cosignature import Cosignature, cosign, open_cosignature
from credit_ledger_verify.tlog.errors import (
    CheckpointError,
    CheckpointFormatError,
    CheckpointOriginError,
    CheckpointSignatureError,
    NoteFormatError,
    NoteKeyError,
)
from credit_ledger_verify.tlog.note import (
    ED25519,
    ED25519_COSIGNATURE,
    Note,
    NoteSignature,
    SignerKey,
    VerifierKey,
    encode_note,
    parse_note,
)
from credit_ledger_verify.tlog.witness import (
    AddCheckpointRequest,
    Verdict,
    Witness,
    WitnessDecision,
    WitnessState,
)

__all__ = [
    "ED25519",
    "ED25519_COSIGNATURE",
    "AddCheckpointRequest",
    "Checkpoint",
    "CheckpointError",
    "CheckpointFormatError",
    "CheckpointOriginError",
    "CheckpointPolicy",
    "CheckpointSignatureError",
    "Cosignature",
    "MerkleTree",
    "Note",
    "NoteFormatError",
    "NoteKeyError",
    "NoteSignature",
    "SignerKey",
    "Verdict",
    "VerifiedCheckpoint",
    "VerifierKey",
    "Witness",
    "WitnessDecision",
    "WitnessState",
    "build_tree",
    "cosign",
    "encode_note",
    "log_origin",
    "open_cosignature",
    "parse_checkpoint_text",
    "parse_note",
    "sign_checkpoint",
    "verify_checkpoint",
    "verify_consistency",
]
