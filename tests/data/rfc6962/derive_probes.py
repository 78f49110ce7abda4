"""Write the RFC 6962 golden-vector JSON files in this directory.

The published data (leaves, node hashes, roots, inclusion and consistency proofs) is typed in
below from transparency-dev/merkle (see README.md). The failing probes are derived from it
by the mutation rules described in README.md; deriving them needs only SHA-256 of the leaf
inputs, never the implementation under test. Run from the repo root:

    uv run python tests/data/rfc6962/derive_probes.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SOURCE = "transparency-dev/merkle: testonly/constants.go, proof/verify_test.go"

LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
ROOTS = [  # index = tree size
    EMPTY_ROOT,
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
SOME_HASH = "abacaba000000000000000000000000000000000000000000060061e00123456"

# (leaf number counted from 1, tree size, proof)
INCLUSION = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        2,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# (size1, size2, proof)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def leaf_hash(leaf_hex: str) -> str:
    return hashlib.sha256(b"\x00" + bytes.fromhex(leaf_hex)).hexdigest()


def flip(hex_hash: str, mask: int) -> str:
    raw = bytearray(bytes.fromhex(hex_hash))
    raw[0] ^= mask
    return raw.hex()


def inclusion_probe(
    desc: str, index: int, size: int, leaf: str, proof: list[str], root: str, want_error: bool
) -> dict[str, Any]:
    return {
        "desc": desc,
        "leaf_index": index,
        "tree_size": size,
        "leaf_hash": leaf,
        "proof": proof,
        "root": root,
        "want_error": want_error,
    }


def inclusion_vectors() -> list[dict[str, Any]]:
    probes: list[dict[str, Any]] = []
    wrong_leaf = b"WrongLeaf".hex()
    for number, size, proof in INCLUSION:
        index, leaf, root = number - 1, leaf_hash(LEAVES[number - 1]), ROOTS[size]
        tag = f"leaf {index} of {size}"

        base = {"index": index, "size": size, "leaf": leaf, "proof": proof, "root": root}

        def probe(desc: str, base: dict[str, Any] = base, tag: str = tag, **changes: Any) -> None:
            fields = {**base, **changes}
            probes.append(
                inclusion_probe(f"{tag}: {desc}", want_error=desc != "happy path", **fields)
            )

        probe("happy path")
        probe("index - 1", index=index - 1)
        probe("index + 1", index=index + 1)
        probe("index ^ 2", index=index ^ 2)
        probe("size * 2", size=size * 2)
        probe("size // 2", size=size // 2)
        probe("wrong leaf (9 bytes)", leaf=wrong_leaf)
        probe("empty-tree root", root=EMPTY_ROOT)
        probe("random root", root=SOME_HASH)
        probe("trailing empty hash", proof=[*proof, ""])
        probe("trailing root", proof=[*proof, root])
        probe("preceding empty hash", proof=["", *proof])
        probe("preceding root", proof=[root, *proof])
        for i in range(len(proof)):
            probe(
                f"proof[{i}] bit 3 flipped",
                proof=[flip(h, 8) if j == i else h for j, h in enumerate(proof)],
            )
        if proof:
            probe("last component removed", proof=proof[:-1])
        if len(proof) > 1:
            probe("component inserted", proof=[proof[0], SOME_HASH, *proof[1:]])

    data_hash = hashlib.sha256(b"\x00data").hexdigest()
    for desc, root, leaf, want_error in [
        ("matching root and leaf", data_hash, data_hash, False),
        ("empty leaf", data_hash, "", True),
        ("empty root", "", data_hash, True),
        ("empty root and leaf", "", "", True),
    ]:
        probes.append(inclusion_probe(f"single entry: {desc}", 0, 1, leaf, [], root, want_error))
    for index, size in [(0, 0), (0, 1), (1, 0), (2, 1)]:
        tag = f"index {index} size {size}"
        probes.append(
            inclusion_probe(f"{tag}: random leaf, empty root", index, size, SOME_HASH, [], "", True)
        )
        probes.append(
            inclusion_probe(
                f"{tag}: empty leaf, empty-tree root", index, size, "", [], EMPTY_ROOT, True
            )
        )
        probes.append(
            inclusion_probe(
                f"{tag}: random leaf, empty-tree root", index, size, SOME_HASH, [], EMPTY_ROOT, True
            )
        )
    return probes


def consistency_probe(
    desc: str, size1: int, size2: int, root1: str, root2: str, proof: list[str], want_error: bool
) -> dict[str, Any]:
    return {
        "desc": desc,
        "size1": size1,
        "size2": size2,
        "root1": root1,
        "root2": root2,
        "proof": proof,
        "want_error": want_error,
    }


def consistency_vectors() -> list[dict[str, Any]]:
    probes: list[dict[str, Any]] = []
    wrong_root = b"WrongRoot".hex()
    for size1, size2, proof in CONSISTENCY:
        root1, root2 = ROOTS[size1], ROOTS[size2]
        tag = f"{size1} -> {size2}"

        base = {"size1": size1, "size2": size2, "root1": root1, "root2": root2, "proof": proof}

        def probe(desc: str, base: dict[str, Any] = base, tag: str = tag, **changes: Any) -> None:
            fields = {**base, **changes}
            probes.append(
                consistency_probe(f"{tag}: {desc}", want_error=desc != "happy path", **fields)
            )

        probe("happy path")
        if not proof:
            continue  # as upstream: trivial proofs get no corruption probes
        probe("size1 - 1", size1=size1 - 1)
        probe("size1 + 1", size1=size1 + 1)
        probe("size1 ^ 2", size1=size1 ^ 2)
        probe("size2 * 2", size2=size2 * 2)
        probe("size2 // 2", size2=size2 // 2)
        probe("wrong root1 (9 bytes)", root1=wrong_root)
        probe("wrong root2 (9 bytes)", root2=wrong_root)
        probe("swapped roots", root1=root2, root2=root1)
        probe("empty proof", proof=[])
        probe("trailing empty hash", proof=[*proof, ""])
        probe("trailing root1", proof=[*proof, root1])
        probe("trailing root2", proof=[*proof, root2])
        probe("preceding empty hash", proof=["", *proof])
        probe("preceding root1", proof=[root1, *proof])
        probe("preceding root2", proof=[root2, *proof])
        probe("preceding proof[0]", proof=[proof[0], *proof])
        probe("truncated proof", proof=proof[:-1])
        for i in range(len(proof)):
            probe(
                f"proof[{i}] bit 4 flipped",
                proof=[flip(h, 16) if j == i else h for j, h in enumerate(proof)],
            )

    # Upstream uses short "don't care" roots here; our verifier checks hash lengths first,
    # so these stand-ins are 32 bytes (SHA-256 of the same phrases).
    care1 = hashlib.sha256(b"don't care 1").hexdigest()
    care2 = hashlib.sha256(b"don't care 2").hexdigest()
    for size1, size2, root1, root2, proof, want_error in [
        (0, 0, care1, care2, [], True),
        (1, 1, care1, care2, [], True),
        (0, 0, care1, care1, [], False),
        (0, 1, care1, care2, [], False),
        (1, 1, care2, care2, [], False),
        (1, 0, care1, care2, [], True),
        (2, 1, care1, care2, [], True),
        (1, 2, care1, care2, [], True),
        (0, 0, EMPTY_ROOT, care2, [], True),
        (1, 1, EMPTY_ROOT, care2, [], True),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], True),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], True),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], True),
    ]:
        probes.append(
            consistency_probe(
                f"static {size1} -> {size2}", size1, size2, root1, root2, proof, want_error
            )
        )
    return probes


def write(name: str, document: dict[str, Any]) -> None:
    (HERE / name).write_text(json.dumps(document, indent=1) + "\n")


def main() -> None:
    write(
        "tree.json",
        {
            "kind": "tree",
            "source": SOURCE,
            "leaves": LEAVES,
            "node_hashes": NODE_HASHES,
            "roots": ROOTS,
        },
    )
    write(
        "inclusion.json",
        {
            "kind": "inclusion",
            "source": SOURCE,
            "probes": inclusion_vectors(),
        },
    )
    write(
        "consistency.json",
        {
            "kind": "consistency",
            "source": SOURCE,
            "probes": consistency_vectors(),
        },
    )


if __name__ == "__main__":
    main()
