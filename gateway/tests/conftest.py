"""Fixtures of the fabric_gateway unit tests: defined in fg_fakes.py (see there)."""

from fg_fakes import client, fake_gateway

__all__ = ["client", "fake_gateway"]
