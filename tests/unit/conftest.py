"""Unit-test fixtures.

The index database fixtures live in :mod:`tests.db.fixtures`. When the top-level
``tests/conftest.py`` registers that plugin (``pytest_plugins = ["tests.db.fixtures"]``) this
file does nothing; until then it loads the fixtures itself so the unit tests run either way.
"""

import sys
from pathlib import Path

if "tests.db.fixtures" not in sys.modules:
    _repo_root = str(Path(__file__).resolve().parents[2])
    if _repo_root not in sys.path:
        sys.path.insert(0, _repo_root)
    from tests.db.fixtures import *  # noqa: F403
