#!/usr/bin/env bash
# Python toolchain for the repo: a pinned uv, then the locked environment (.venv).
# Idempotent; a second run takes a second.
set -euo pipefail
UV_VERSION=0.13.8
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | awk '{print $2}')" != "$UV_VERSION" ]; then
  echo "bootstrap: installing uv $UV_VERSION" >&2
  python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
uv sync --frozen --quiet
