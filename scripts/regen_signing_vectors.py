"""Regenerate the shared signing vectors in tests/data/signing/ with the service's own code.

    uv run python scripts/regen_signing_vectors.py

One file per record: the unsigned record (JSON), the writer's 32-byte seed and public key,
the canonical signing bytes (hex), the signature and the committed canonical bytes — all made
by ``ledger_service.signing`` (pynacl) over ``credit_ledger_verify`` records. The service's
test (tests/unit/test_signing_vectors.py) and the SDK's (sdk/tests/test_signing.py) both
rebuild every file from its record and seed and require byte-identical output.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from credit_ledger_verify.records import DataUpdateRecord, Record
from nacl.signing import SigningKey

from ledger_service.samples.data import EPOCH, SampleWriter, enterprise_code, enterprise_story
from ledger_service.signing import sign_record

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "signing"


def _vector(name: str, seed: bytes, record: Record) -> dict[str, object]:
    unsigned = record.without_signature()
    signed = sign_record(unsigned, seed)
    return {
        "name": name,
        "seed_b64": base64.b64encode(seed).decode(),
        "public_key_b64": base64.b64encode(bytes(SigningKey(seed).verify_key)).decode(),
        "record": unsigned.to_json_dict(),
        "signing_bytes_hex": unsigned.signing_bytes().hex(),
        "signature_b64": signed.signature,
        "canonical_bytes_hex": signed.canonical_bytes().hex(),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    seed = hashlib.sha256(b"credit-ledger signing vector writer").digest()
    writer = SampleWriter(actor="vector-writer", signing_key=SigningKey(seed))
    story = enterprise_story(writer, 42, prefix="vec")
    chosen = {
        "data_update": story[0],
        "score_change": story[2],
        "financing_event": story[4],
        "credit_repair": story[6],
    }
    # non-ASCII text, escapes and numbers at the edges of RFC 8785's rules
    unicode_record = DataUpdateRecord(
        record_id="vec-unicode-1",
        subject=enterprise_code(7),
        occurred_at=EPOCH,
        source="国家税务总局 上海市税务局",
        actor=writer.actor,
        payload={
            "dataset": "tax",
            "fields_changed": {
                "企业名称": "上海示例科技有限公司 😀",
                "note": 'tab\tquote" backslash\\ \u2028 control\u0001',
                "ratio": "0.10",
                "big": 12345678901234,
                "neg": -7,
            },
            "source_reference": "STB/2025/é",
        },
    )
    chosen["unicode_and_numbers"] = unicode_record
    for name, record in chosen.items():
        path = OUT / f"{name}.json"
        text = json.dumps(_vector(name, seed, record), indent=2, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")
        print(path)


if __name__ == "__main__":
    main()
