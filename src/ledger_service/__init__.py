"""Credit ledger service: Fabric-anchored records, lineage index and offline-verifiable evidence."""

__all__: list[str] = []
