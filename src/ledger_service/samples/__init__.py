"""Sample data, a sample anchored ledger and the `make up` demo — not part of the service
itself; the demo, the benchmarks and the tests share them."""
