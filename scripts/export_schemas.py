"""Write the record JSON Schemas to docs/schemas/ (or, with --check, verify they are current).

uv run python scripts/export_schemas.py           # regenerate
uv run python scripts/export_schemas.py --check   # exit 1 if a file is stale or missing
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from credit_ledger_verify.records.schemas import render_schema, schema_documents

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "docs" / "schemas"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only verify, write nothing")
    parser.add_argument("--out", type=Path, default=SCHEMA_DIR, help="output directory")
    args = parser.parse_args(argv)

    stale = []
    args.out.mkdir(parents=True, exist_ok=True)
    for name, document in schema_documents().items():
        path = args.out / name
        text = render_schema(document)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"stale schemas in {args.out}: {', '.join(stale)}; run scripts/export_schemas.py")
        return 1
    print(
        f"{'checked' if args.check else 'wrote'} schemas in {args.out}"
        + (f" ({len(stale)} updated)" if stale and not args.check else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
