"""Database test support: a real PostgreSQL server and per-test index databases."""
