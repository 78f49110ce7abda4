"""Regenerate the checkpoint-form (compact) evidence test data in
tests/data/evidence/checkpoint/ from a running network.

    uv run python scripts/regen_checkpoint_evidence.py --state-dir .state

Anchors 45 records (5 enterprise stories) in batches of 8, anchors a checkpoint of the global
log by hand (``ledger_service.samples.checkpoints``), anchors more records and a second
checkpoint (so the golden checkpoint's transaction carries a consistency proof), builds a
single-record bundle and a redacted one, checks both verify, and writes them with the
network's trust directory, the log's verifier key and the first checkpoint's note. Then the
cases: one mutation per file, each naming the step that must fail
(tests/unit/evidence/test_checkpoint_cases.py walks them).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from credit_ledger_verify.evidence.packed_block import packing_dictionary, unpack_block
from credit_ledger_verify.fabric.envelope import decode_endorsed_transaction
from credit_ledger_verify.fabric.protos import Metadata
from credit_ledger_verify.tlog import (
    Checkpoint,
    CheckpointPolicy,
    parse_checkpoint_text,
    parse_note,
    sign_checkpoint,
)
from cryptography.hazmat.primitives.serialization import Encoding

from ledger_service.evidence import TrustStore, Verifier, build_checkpoint_bundle, encode_bundle
from ledger_service.fabric.checkpoints import GatewayAnchoredCheckpoints
from ledger_service.ops.topology import Topology, default_state_dir
from ledger_service.samples.checkpoints import anchor_checkpoint
from ledger_service.samples.data import enterprise_story
from ledger_service.samples.ledger import make_anchored_ledger
from ledger_service.tlog.checkpoints import load_or_create_log_key, platform_origin

DATA_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "evidence" / "checkpoint"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--state-dir", type=Path, default=default_state_dir())
    args = ap.parse_args()
    topo = Topology.load(args.state_dir)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = make_anchored_ledger(topo, Path(tmp), count=0, prefix="unused", anchor=False)
        prefix = f"cpe{uuid.uuid4().hex[:6]}"
        stories = [r for n in range(5) for r in enterprise_story(ledger.writer, n, prefix=prefix)]
        ledger.append(stories[:20])
        ledger.anchor(batch_size=8)
        with ledger.target.gateway() as gateway:
            first = anchor_checkpoint(ledger.context, gateway)
        ledger.append(stories[20:])
        ledger.anchor(batch_size=8)
        with ledger.target.gateway() as gateway:
            second = anchor_checkpoint(ledger.context, gateway)
            chain = GatewayAnchoredCheckpoints(gateway, topo.channel, topo.chaincode)
            record = ledger.records[3].record_id
            trust = TrustStore.from_topology(topo)
            bundle = build_checkpoint_bundle(
                ledger.session_factory, [record], chain=chain, trust=trust
            )
            redacted = build_checkpoint_bundle(
                ledger.session_factory, [record], chain=chain, trust=trust, redact=True
            )
    assert first.prev_size < first.size < second.size, (first, second)
    key = load_or_create_log_key(
        Path(topo.state_dir), platform_origin(topo.channel, topo.chaincode)
    )
    verifier = Verifier(trust, checkpoint_policy=CheckpointPolicy(key.verifier))
    verifier.verify(bundle).raise_for_failure()
    verifier.verify(redacted).raise_for_failure()
    shutil.rmtree(DATA_DIR / "trust", ignore_errors=True)
    trust.write(DATA_DIR / "trust")
    (DATA_DIR / "log.vkey").write_text(key.verifier.encode() + "\n")
    (DATA_DIR / "bundle.json").write_bytes(encode_bundle(bundle))
    (DATA_DIR / "redacted.json").write_bytes(encode_bundle(redacted))
    (DATA_DIR / "other-size.note").write_text(first.note)
    shutil.rmtree(DATA_DIR / "cases", ignore_errors=True)
    (DATA_DIR / "cases").mkdir()
    # the log's key signs a checkpoint of the same tree that was never anchored (a log
    # showing a bank a head the chain never saw): steps 2 and 3 pass, step 4 must not
    parsed = parse_checkpoint_text(parse_note(bundle["checkpoint"]).text)
    unanchored = sign_checkpoint(
        Checkpoint(parsed.origin, parsed.size, parsed.root, ("unanchored",)), key
    ).decode()
    for name, case in cases(bundle, first.note, trust, unanchored).items():
        text = json.dumps(case, indent=2, ensure_ascii=False) + "\n"
        (DATA_DIR / "cases" / f"{name}.json").write_text(text)
    print(f"wrote {DATA_DIR}: bundle {len(encode_bundle(bundle))} bytes")


def _next_second(timestamp: str) -> str:
    """An RFC 3339 UTC timestamp one second later (the same text form)."""
    moment = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    later = (moment + dt.timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    assert len(later) == len(timestamp), (timestamp, later)
    return later


def _case(description: str, mutation: dict[str, Any], step: str, message: str) -> dict[str, Any]:
    return {
        "description": description,
        "mutation": mutation,
        "expect": {"step": step, "message": message},
    }


def dictionary(bundle: dict[str, Any], trust: TrustStore) -> bytes:
    """The packed block's preset dictionary for ``bundle`` (its ``cas`` and note)."""
    cas = bundle["anchor"]["cas"]
    der = [c.public_bytes(Encoding.DER) for m in cas for c in trust.msps[m].ca_certs]
    return packing_dictionary(der, bundle["checkpoint"].encode())


def cases(
    bundle: dict[str, Any], other_note: str, trust: TrustStore, unanchored: str
) -> dict[str, dict[str, Any]]:
    """One mutation per case; the step each must fail at is decided here, by design."""
    record = bundle["records"][0]
    note = bundle["checkpoint"]
    text = note.partition("\n\n")[0]
    origin, size, root = text.split("\n")[:3]
    data, sigs, _ = unpack_block(
        base64.b64decode(bundle["anchor"]["packed"]), dictionary=dictionary(bundle, trust)
    )
    envelope = data[bundle["anchor"]["tx_index"]]
    _, action = decode_endorsed_transaction(envelope)
    endorsement_sig = action.endorsements[1].signature
    orderer_sig = Metadata.FromString(sigs).signatures[0].signature
    proof_hashes = len(base64.b64decode(record["log"]["proof"])) // 32
    out: dict[str, dict[str, Any]] = {
        "content-record-id": _case(
            "The content's record id edited (the entry's name comes from it): another "
            "commitment, not the logged leaf.",
            {
                "op": "set",
                "path": ["records", 0, "content", "record_id"],
                "value": record["content"]["record_id"][:-1] + "x",
            },
            "inclusion",
            "not the checkpoint's",
        ),
        "record-id-beside-content": _case(
            "A full record that also names itself beside its content (one reading only).",
            {
                "op": "set",
                "path": ["records", 0, "record_id"],
                "value": record["content"]["record_id"],
            },
            "format",
            "record_id is carried by redacted entries only",
        ),
        "content-record-id-missing": _case(
            "The content without its record id: the entry has no name.",
            {"op": "delete", "path": ["records", 0, "content", "record_id"]},
            "format",
            "content.record_id must be a record id",
        ),
        "content-value": _case(
            "One value of the content changed (still a valid record): the commitment computed "
            "from its canonical bytes is not the logged leaf.",
            {
                "op": "set",
                "path": ["records", 0, "content", "occurred_at"],
                "value": _next_second(record["content"]["occurred_at"]),
            },
            "inclusion",
            "not the checkpoint's",
        ),
        "content-float": _case(
            "A number outside RFC 8785's exact domain (a float): the object has no committed "
            "byte form.",
            {"op": "set", "path": ["records", 0, "content", "occurred_at"], "value": 1.5},
            "content",
            "does not canonicalise",
        ),
        "content-text": _case(
            "The content carried as escaped JSON text (the retired /4 shape) instead of an object.",
            {
                "op": "set",
                "path": ["records", 0, "content"],
                "value": json.dumps(record["content"], ensure_ascii=False, separators=(",", ":")),
            },
            "format",
            "content must be a JSON object",
        ),
        "salt": _case(
            "One bit of the salt flipped: another commitment, not in the log.",
            {"op": "flip", "path": ["records", 0, "salt"], "offset": 5},
            "inclusion",
            "not the checkpoint's",
        ),
        "leaf-index": _case(
            "The leaf index moved by one.",
            {"op": "add", "path": ["records", 0, "log", "leaf_index"], "value": 1},
            "inclusion",
            "leads to root",
        ),
        "leaf-index-beyond": _case(
            "A leaf index beyond the checkpoint's size.",
            {"op": "set", "path": ["records", 0, "log", "leaf_index"], "value": int(size) + 5},
            "inclusion",
            "malformed proof",
        ),
        "proof-truncated": _case(
            "The proof's last hash dropped.",
            {"op": "truncate", "path": ["records", 0, "log", "proof"], "bytes": 32},
            "inclusion",
            "malformed proof",
        ),
        "checkpoint-size": _case(
            "The note's size line changed: the log key's signature no longer verifies.",
            {
                "op": "set",
                "path": ["checkpoint"],
                "value": note.replace(f"\n{size}\n", f"\n{int(size) + 1}\n", 1),
            },
            "checkpoint",
            "does not verify",
        ),
        "checkpoint-root": _case(
            "The note's root line replaced by another 32-byte root.",
            {
                "op": "set",
                "path": ["checkpoint"],
                "value": note.replace(root, base64.b64encode(bytes(32)).decode(), 1),
            },
            "inclusion",
            "not the checkpoint's",
        ),
        "checkpoint-signature": _case(
            "One byte of the log key's signature flipped.",
            {"op": "note-signature", "index": 0},
            "checkpoint",
            "does not verify",
        ),
        "checkpoint-origin": _case(
            "The note names another log.",
            {"op": "set", "path": ["checkpoint"], "value": note.replace(origin, origin + "x", 1)},
            "checkpoint",
            "origin",
        ),
        "checkpoint-other-size": _case(
            "The note swapped for the (validly signed) anchored checkpoint of another size, the "
            "block re-packed for it: the record's proof does not lead to its root.",
            {"op": "note-swap", "value": other_note},
            "inclusion",
            "",
        ),
        "checkpoint-unanchored": _case(
            "A checkpoint of the same tree, validly signed by the log key, that was never "
            "anchored (the block re-packed for it): only the anchoring step can tell.",
            {"op": "note-swap", "value": unanchored},
            "anchor",
            "differs from the bundle's checkpoint",
        ),
        "envelope-byte": _case(
            "One byte of the checkpoint transaction's envelope flipped (in its creator "
            "signature): the creator's signature fails (and the data hash).",
            {"op": "packed", "part": "data", "index": 0, "offset": len(envelope) - 3},
            "endorsement",
            "creator",
        ),
        "endorsement-signature": _case(
            "One byte of an endorser's signature flipped.",
            {
                "op": "packed",
                "part": "data",
                "index": 0,
                "offset": envelope.index(endorsement_sig) + len(endorsement_sig) - 3,
            },
            "endorsement",
            "endorsement 1",
        ),
        "orderer-signature": _case(
            "One byte of the orderer's block signature flipped.",
            {
                "op": "packed",
                "part": "signatures",
                "offset": sigs.index(orderer_sig) + len(orderer_sig) - 3,
            },
            "orderer",
            "orderer signature 0",
        ),
        "block-number": _case(
            "The block number changed: the orderer signed another header.",
            {"op": "add", "path": ["anchor", "block_number"], "value": 1},
            "orderer",
            "signature",
        ),
        "block-previous-hash": _case(
            "The header's previous hash changed: the orderer signed another header.",
            {"op": "flip", "path": ["anchor", "previous_hash"], "offset": 0},
            "orderer",
            "signature",
        ),
        "block-data-hash-carried": _case(
            "A data hash carried beside the block (the retired /4 field): the form derives it.",
            {"op": "set", "path": ["anchor", "data_hash"], "value": "A" * 43 + "="},
            "bundle",
            "unknown field 'data_hash'",
        ),
        "block-tx-index": _case(
            "The transaction's position points outside the block.",
            {"op": "add", "path": ["anchor", "tx_index"], "value": 1},
            "block",
            "outside block",
        ),
        "packed-cas-unknown": _case(
            "The packed block claims a CA the verifier's trust directory does not have.",
            {"op": "set", "path": ["anchor", "cas"], "value": ["NobodyMSP"]},
            "block",
            "which the trust directory does not have",
        ),
        "packed-garbage": _case(
            "The packed block is not a DEFLATE stream.",
            {"op": "set", "path": ["anchor", "packed"], "value": "AAAA"},
            "block",
            "does not unpack",
        ),
        "bundle-format-unknown": _case(
            "An unknown evidence format version is refused by name.",
            {"op": "set", "path": ["format"], "value": "credit-ledger-evidence/9"},
            "bundle",
            "has format 'credit-ledger-evidence/9'",
        ),
        "bundle-format-retired": _case(
            "A retired evidence format version is refused by name.",
            {"op": "set", "path": ["format"], "value": "credit-ledger-evidence/4"},
            "bundle",
            "no longer supported",
        ),
        "bundle-form-unknown": _case(
            "Format /5 with a form other than checkpoint.",
            {"op": "set", "path": ["form"], "value": "batch"},
            "bundle",
            "form 'batch' is unknown",
        ),
        "bundle-unknown-field": _case(
            "An unknown top-level field.",
            {"op": "set", "path": ["extra"], "value": 1},
            "bundle",
            "unknown field 'extra'",
        ),
        "record-commitment-and-content": _case(
            "A full record that also carries a commitment (one reading only).",
            {"op": "set", "path": ["records", 0, "commitment"], "value": "A" * 43 + "="},
            "format",
            "content and salt (full) or only its commitment",
        ),
        "record-null-salt": _case(
            "A null salt is not a redaction.",
            {"op": "set", "path": ["records", 0, "salt"], "value": None},
            "format",
            "salt is null",
        ),
    }
    for i in range(proof_hashes):
        out[f"proof-hash-{i}"] = _case(
            f"One bit of proof hash {i} flipped.",
            {"op": "flip", "path": ["records", 0, "log", "proof"], "offset": 32 * i + 7},
            "inclusion",
            "leads to root",
        )
    return out


if __name__ == "__main__":
    main()
