"""Thin routes over the services of ``LedgerContext``: parse, check the caller, call one
service, shape the answer. No SQL here."""
