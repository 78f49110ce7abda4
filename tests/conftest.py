"""Suite-wide fixtures: the index databases (real SQLite and real PostgreSQL)."""

pytest_plugins = ["tests.db.fixtures"]
