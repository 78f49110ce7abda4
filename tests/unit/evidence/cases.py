"""Evidence test cases as data: tests/data/evidence/cases/*.json, one mutated bundle per file.

Each case is a *mutation of a base bundle* — the golden bundle (tests/data/evidence/bundle.json,
regenerated whenever the on-chain format changes), the golden lineage bundle
(tests/data/evidence/lineage/bundle.json, scripts/regen_lineage_data.py: its records and
edges come in a fixed order) or the synthetic signed bundle of
:mod:`tests.unit.evidence.synthetic` — never a copy of one, and it addresses records (and
edges) by index, never by id, transaction id or block number::

    {
      "description": "why this case exists",
      "base": "golden" | "lineage" | "synthetic" | "erasure",   (default "golden"; erasure:
                                                 synthetic.erasure_bundle, an erased record
                                                 and its erasure record)
      "mutations": [                                      (applied in order to the JSON)
        {"op": "set",    "path": [...], "value": ...},
        {"op": "delete", "path": [...]},
        {"op": "append", "path": [...], "text": "..."},       (string += text)
        {"op": "copy",   "from": [...], "path": [...]},
        {"op": "push",   "path": [...], "value": ... | "from": [...]},  (list += item)
        {"op": "only",   "record": 0},                        (keep one record)
        {"op": "raw",    "find": "...", "replace": "..."}     (first match in the compact
      ],                                                        JSON text: duplicate keys)
      "write_set": {"op": "reverse" | "shuffle" | "duplicate", "index": 3, "seed": 1},
                                                          (synthetic base only: edits the
                                                           writes before they are signed)
      "encoding": "utf-16" | "utf-32" | "utf-8-sig" | ...  (how the JSON text is encoded)
      "expect": {
        "step": "bundle" | "format" | "content" | "merkle" | "write set" | "endorsement"
                | "block" | "orderer" | "lineage" | "verified",
        "message": "fragment of the message",
        "record": 0 | "all",                              (default 0)
        "failed_steps": ["merkle", "write set"]           (optional: exactly these failed)
        "check": "edge" | "completeness" | "reach" | "roots" | "loan",
                                                          (step "lineage": the lineage check
                                                           that must fail with the message)
        "failed_records": {"4": "content"}                (step "lineage": these records fail
                                                           at these steps, every other verifies)
      }
    }

A path is a list of object keys and list indexes; it may start with ``"@block_of_record", N``
(the block entry records[N] is anchored in) or ``"@tx_of_record", N`` (that block's
``transactions`` item for records[N]).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.unit.evidence import synthetic

CASE_KEYS = frozenset(("description", "base", "mutations", "write_set", "encoding", "expect"))
EXPECT_KEYS = frozenset(("step", "message", "record", "failed_steps", "check", "failed_records"))
STEPS = frozenset(
    (
        "bundle",
        "format",
        "content",
        "merkle",
        "write set",
        "endorsement",
        "block",
        "orderer",
        "lineage",
    )
)
LINEAGE_CHECKS = frozenset(("edge", "completeness", "reach", "roots", "loan"))

Json = dict[str, Any]


def load_case(path: Path) -> Json:
    case: Json = json.loads(path.read_text(encoding="utf-8"))
    unknown = set(case) - CASE_KEYS
    assert not unknown, f"{path.name}: unknown case fields {sorted(unknown)}"
    assert isinstance(case.get("description"), str), f"{path.name}: no description"
    expect = case.get("expect")
    assert isinstance(expect, dict), f"{path.name}: no expect"
    assert not set(expect) - EXPECT_KEYS, f"{path.name}: unknown expect fields"
    assert expect.get("step") in STEPS | {"verified"}, f"{path.name}: bad step"
    if expect["step"] != "verified":
        assert isinstance(expect.get("message"), str), path.name
        assert expect["message"], f"{path.name}: empty message"
    assert case.get("base", "golden") in ("golden", "lineage", "synthetic", "erasure"), path.name
    if expect["step"] == "lineage":
        assert expect.get("check") in LINEAGE_CHECKS, f"{path.name}: bad lineage check"
    else:
        assert "check" not in expect, path.name
        assert "failed_records" not in expect, path.name
    assert "write_set" not in case or case.get("base") == "synthetic", path.name
    return case


def _start(bundle: Json, path: list[Any]) -> tuple[Any, list[Any]]:
    """The node a path starts from (the bundle, or a record's block or transaction item)
    and the rest of the path."""
    if path and path[0] in ("@block_of_record", "@tx_of_record"):
        record = bundle["records"][path[1]]
        anchor = record["anchor"]
        node = next(b for b in bundle["blocks"] if b["number"] == anchor["block_number"])
        if path[0] == "@tx_of_record":
            node = next(t for t in node["transactions"] if t["tx_id"] == anchor["tx_id"])
        return node, list(path[2:])
    return bundle, list(path)


def _resolve(bundle: Json, path: list[Any]) -> tuple[Any, Any]:
    """(container, last key) of ``path`` in ``bundle``."""
    node, steps = _start(bundle, path)
    assert steps, f"path {path} names no field"
    for step in steps[:-1]:
        node = node[step]
    return node, steps[-1]


def _get(bundle: Json, path: list[Any]) -> Any:
    node, steps = _start(bundle, path)
    for step in steps:
        node = node[step]
    return node


def mutate(base: Json, mutations: list[Json]) -> tuple[Json, list[tuple[str, str]]]:
    """The mutated bundle and the raw text edits still to apply after encoding."""
    bundle = copy.deepcopy(base)
    raw: list[tuple[str, str]] = []
    for m in mutations:
        op = m["op"]
        if op == "raw":
            raw.append((m["find"], m["replace"]))
        elif op == "only":
            bundle["records"] = [bundle["records"][m["record"]]]
        elif op in ("copy", "push"):
            value = copy.deepcopy(_get(bundle, m["from"]) if "from" in m else m["value"])
            container, key = _resolve(bundle, m["path"])
            if op == "copy":
                container[key] = value
            else:
                container[key].append(value)
        else:
            container, key = _resolve(bundle, m["path"])
            if op == "set":
                container[key] = m["value"]
            elif op == "delete":
                del container[key]
            elif op == "append":
                container[key] = container[key] + m["text"]
            else:
                raise AssertionError(f"unknown mutation op {op!r}")
    return bundle, raw


def write_set_edit(spec: Json) -> Callable[[synthetic.Writes], synthetic.Writes]:
    op = spec["op"]

    def edit(writes: synthetic.Writes) -> synthetic.Writes:
        if op == "reverse":
            return writes[::-1]
        if op == "shuffle":
            out = list(writes)
            random.Random(spec.get("seed", 0)).shuffle(out)
            return out
        if op == "duplicate":
            return [*writes, writes[spec["index"]]]
        raise AssertionError(f"unknown write_set op {op!r}")

    return edit


def encode(bundle: Json, raw: list[tuple[str, str]], encoding: str) -> bytes:
    text = json.dumps(bundle, separators=(",", ":"), ensure_ascii=False)
    for find, replace in raw:
        assert find in text, f"raw mutation: {find!r} not in the bundle"
        text = text.replace(find, replace, 1)
    return text.encode(encoding)


def build(case: Json, golden: Json, lineage: Json) -> bytes:
    which = case.get("base", "golden")
    if which == "synthetic":
        spec = case.get("write_set")
        base = synthetic.bundle(write_set=None if spec is None else write_set_edit(spec))
    elif which == "erasure":
        base = synthetic.erasure_bundle()
    else:
        base = lineage if which == "lineage" else golden
    bundle, raw = mutate(base, case.get("mutations", []))
    return encode(bundle, raw, case.get("encoding", "utf-8"))
