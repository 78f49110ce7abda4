"""The platform's global transparency log (issue 13): leaves from the chain mirror,
incremental state, signed checkpoints. The pure core (checkpoint format, proofs, the
witness's decision) lives in :mod:`credit_ledger_verify.tlog`; docs/transparency.md."""
