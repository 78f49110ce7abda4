#!/usr/bin/env bash
# Run the whole pytest suite. Exit 5 (nothing collected) is a failure here: an empty run
# must never pass for a green one.
set -uo pipefail
cd "$(dirname "$0")/.."
uv run --frozen pytest "$@"
rc=$?
if [ $rc -eq 5 ]; then
  echo "run-pytest: pytest collected no tests; treating as a failure" >&2
  exit 1
fi
exit $rc
